package com.perseusproxy.server.leak;

import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's leak detector (paranoid in tests), remembering every leak it reports so {@link LeakCheckExtension} can fail
 * the test class that leaked a buffer instead of leaving a log line nobody reads. Installed through the system property
 * {@code io.netty.customResourceLeakDetector} (see the proxy-server pom).
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {

    static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
    }

    /**
     * The constructor Netty's factory looks up first. Without it Netty logs "Could not load custom resource leak
     * detector class" (and then uses the one above), which reads as if leak checking were off.
     */
    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add(resourceType + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.add(resourceType + " (untraced)");
        super.reportUntracedLeak(resourceType);
    }
}
