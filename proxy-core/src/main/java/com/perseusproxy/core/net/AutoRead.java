package com.perseusproxy.core.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;

/**
 * Turns a channel's reading on or off only when that changes it. The data path sets it several times per transaction
 * (lease, forward, end of lease), nearly always to what it already is; Netty's setter is an atomic exchange, a read
 * is a plain volatile load. Call on the channel's event loop.
 */
public final class AutoRead {

    private AutoRead() {
    }

    public static void set(Channel channel, boolean on) {
        ChannelConfig config = channel.config();
        if (config.isAutoRead() != on) {
            config.setAutoRead(on);
        }
    }
}
