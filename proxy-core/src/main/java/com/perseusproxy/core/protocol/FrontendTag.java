package com.perseusproxy.core.protocol;

/** Tags of messages a client sends (protocol 3.0). Only those the proxy must recognise are named. */
public final class FrontendTag {
    public static final char QUERY = 'Q';
    public static final char PARSE = 'P';
    public static final char BIND = 'B';
    public static final char DESCRIBE = 'D';
    public static final char EXECUTE = 'E';
    public static final char CLOSE = 'C';
    public static final char FLUSH = 'H';
    public static final char SYNC = 'S';
    public static final char FUNCTION_CALL = 'F';
    public static final char COPY_DATA = 'd';
    public static final char COPY_DONE = 'c';
    public static final char COPY_FAIL = 'f';
    public static final char TERMINATE = 'X';
    /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse all share this tag. */
    public static final char PASSWORD = 'p';

    private FrontendTag() {
    }

    /**
     * Whether a client may send a message of this type (protocol 3.0; PostgreSQL's SocketBackend refuses any other
     * with 08P01 before reading its body).
     */
    public static boolean isKnown(char tag) {
        return switch (tag) {
            case QUERY, PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, FLUSH, SYNC, FUNCTION_CALL, COPY_DATA, COPY_DONE,
                 COPY_FAIL, TERMINATE, PASSWORD -> true;
            default -> false;
        };
    }
}
