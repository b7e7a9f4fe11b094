package com.perseusproxy.core.protocol;

/** Tags of messages a server sends (protocol 3.0). Only those the proxy must recognise are named. */
public final class BackendTag {
    public static final char AUTHENTICATION = 'R';
    public static final char PARAMETER_STATUS = 'S';
    public static final char BACKEND_KEY_DATA = 'K';
    public static final char READY_FOR_QUERY = 'Z';
    public static final char ERROR_RESPONSE = 'E';
    public static final char NOTICE_RESPONSE = 'N';
    public static final char NOTIFICATION_RESPONSE = 'A';
    public static final char COMMAND_COMPLETE = 'C';
    public static final char DATA_ROW = 'D';
    public static final char COPY_IN_RESPONSE = 'G';
    public static final char COPY_OUT_RESPONSE = 'H';
    public static final char COPY_BOTH_RESPONSE = 'W';
    public static final char NEGOTIATE_PROTOCOL_VERSION = 'v';

    private BackendTag() {
    }
}
