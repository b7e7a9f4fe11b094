package com.perseusproxy.server.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Everything the proxy and the AWS SDK log at DEBUG while open, for checks that no secret is ever logged. Closing it
 * restores the levels.
 */
final class CapturedLogs implements AutoCloseable {

    private static final List<String> LOGGERS = List.of("com.perseusproxy", "software.amazon.awssdk");

    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final List<Level> previous = new ArrayList<>();

    CapturedLogs() {
        appender.start();
        root.addAppender(appender);
        for (String name : LOGGERS) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            previous.add(logger.getLevel());
            logger.setLevel(Level.DEBUG);
        }
    }

    /** Fails naming the line (with the secret masked) when any captured line or stack trace contains a secret. */
    void assertNoneContains(List<String> secrets) {
        for (ILoggingEvent event : List.copyOf(appender.list)) {
            StringBuilder text = new StringBuilder(event.getFormattedMessage());
            for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                text.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
            }
            for (String secret : secrets) {
                assertFalse(text.toString().contains(secret),
                        "a log line contains a secret: " + text.toString().replace(secret, "<HERE>"));
            }
        }
    }

    /** The formatted messages captured so far. */
    List<String> lines() {
        synchronized (appender) {
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    int size() {
        return appender.list.size();
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        for (int i = 0; i < LOGGERS.size(); i++) {
            ((Logger) LoggerFactory.getLogger(LOGGERS.get(i))).setLevel(previous.get(i));
        }
    }
}
