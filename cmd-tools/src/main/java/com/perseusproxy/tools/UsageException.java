package com.perseusproxy.tools;

/** The command line is wrong: the message says how, and the tool exits with status 2 (as Go's flag package does). */
final class UsageException extends Exception {
    UsageException(String message) {
        super(message);
    }
}
