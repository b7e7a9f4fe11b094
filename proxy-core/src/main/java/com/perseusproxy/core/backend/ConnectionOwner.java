package com.perseusproxy.core.backend;

/** The pool a backend connection belongs to, told when the connection ends or becomes free without a client. */
public interface ConnectionOwner {

    /** The connection closed (by either side); it must never be handed out again. */
    void onClosed(BackendConnection connection);

    /** A connection whose client left has been cleaned (rolled back) and may serve others. */
    void release(BackendConnection connection);
}
