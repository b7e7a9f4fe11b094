package com.perseusproxy.core.backend;

/** Delivers a CancelRequest for whatever the given backend connection is running. */
public interface CancelSender {
    void cancel(BackendConnection target);
}
