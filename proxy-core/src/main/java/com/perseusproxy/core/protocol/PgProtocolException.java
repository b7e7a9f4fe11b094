package com.perseusproxy.core.protocol;

import io.netty.handler.codec.DecoderException;

/** The peer broke the wire protocol (bad length, oversized message, bad startup packet). Ends that connection only. */
public class PgProtocolException extends DecoderException {
    public PgProtocolException(String message) {
        super(message);
    }
}
