package com.perseusproxy.server;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code WatchConfigFile}: reloads when the config file changes, exactly as a SIGHUP would (the callback is the
 * SIGHUP path: the whole file read and validated, an invalid one logged and ignored).
 *
 * <p>It polls once a second rather than using a {@code WatchService}, because the usual ways of changing a config file
 * do not all show up as events on the file itself: an editor that writes a new file and renames it over the old one
 * replaces the inode; a Kubernetes ConfigMap volume swaps a {@code ..data} symlink two levels up, so the path the
 * proxy was given never changes at all. A poll compares where the path leads now (symlinks followed), which file
 * that is (its inode), and its size and modification time, which catches all three. Reading those attributes costs
 * nothing; the file itself is read only when one changed.
 *
 * <p>A change is acted on once the file has looked the same for one whole poll, so a file still being written is
 * not read half-way (and if it was, it is invalid and ignored, and the completed write is a change again). A missing
 * file (between a delete and a create) is waited out, with one warning.
 */
final class ConfigFileWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigFileWatch.class);
    static final long POLL_MILLIS = 1000;

    /** What identifies one version of the file; null fields for a file that is not there. */
    private record Stamp(Path realPath, Object fileKey, long size, long modifiedNanos) {
        static final Stamp MISSING = new Stamp(null, null, -1, -1);
    }

    private final Path file;
    private final Runnable reload;
    private final ScheduledExecutorService thread;
    /** The version last reloaded (or started with). */
    private Stamp applied;
    /** A version seen at the last poll and not yet applied, or null. */
    private Stamp pending;
    private boolean warnedMissing;

    private ConfigFileWatch(Path file, Runnable reload) {
        this.file = file;
        this.reload = reload;
        this.applied = stamp(file);
        this.thread = new ScheduledThreadPoolExecutor(1, new DefaultThreadFactory("perseus-config-watch", true));
    }

    /** Starts polling {@code file}; {@code reload} runs on the watch thread (never an event loop). */
    static ConfigFileWatch start(Path file, Runnable reload) {
        ConfigFileWatch watch = new ConfigFileWatch(file, reload);
        watch.thread.scheduleWithFixedDelay(watch::poll, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
        log.info("WatchConfigFile: reloading when {} changes (checked every {} ms)", file, POLL_MILLIS);
        return watch;
    }

    private void poll() {
        try {
            Stamp now = stamp(file);
            if (now.equals(Stamp.MISSING)) {
                if (!warnedMissing) {
                    log.warn("WatchConfigFile: {} is missing; keeping the running configuration until it is back",
                            file);
                    warnedMissing = true;
                }
                pending = null;
                return;
            }
            warnedMissing = false;
            if (now.equals(applied)) {
                pending = null;
            } else if (now.equals(pending)) {
                applied = now;
                pending = null;
                log.info("WatchConfigFile: {} changed; reloading", file);
                reload.run();
            } else {
                pending = now; // changed since the last poll: act once it holds still
            }
        } catch (RuntimeException e) {
            // Never let one failure end the schedule (a ScheduledExecutor stops a task that throws).
            log.error("WatchConfigFile: checking {} failed: {}", file, e.toString());
        }
    }

    private static Stamp stamp(Path file) {
        try {
            Path real = file.toRealPath();
            BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            return new Stamp(real, Objects.requireNonNullElse(attributes.fileKey(), ""), attributes.size(),
                    attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS));
        } catch (NoSuchFileException e) {
            return Stamp.MISSING;
        } catch (IOException e) {
            log.debug("WatchConfigFile: cannot read the attributes of {}: {}", file, e.toString());
            return Stamp.MISSING;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
