package com.perseusproxy.tools;

/** The command was right but the work failed (KMS, the database, a file): the tool prints why and exits with 1. */
final class ToolFailure extends Exception {
    ToolFailure(String message) {
        super(message);
    }
}
