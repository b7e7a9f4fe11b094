package com.perseusproxy.server.config;

/**
 * {@code LogSettings}.
 *
 * @param level one of TRACE, DEBUG, INFO, WARN, ERROR (upper case; WARNING is read as WARN), default INFO
 * @param json  one JSON object per line (true, the default) or plain text
 */
public record LogSettings(String level, boolean json) {
}
