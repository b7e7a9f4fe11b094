package com.perseusproxy.server.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What {@code /health} reports, with Perseus's field names: the version (from the Maven build), the commit and the
 * build date (set at build time with {@code -Dperseus.commit=$(git rev-parse HEAD)}; "unknown" otherwise), and the
 * Java runtime in place of Perseus's Go version.
 */
public record BuildInfo(String buildVersion, String commitHash, String buildDate, String javaVersion) {

    static final String RESOURCE = "/perseus-build.properties";

    /** Read from the properties file the build filters; fields it cannot fill are "unknown". */
    public static BuildInfo current() {
        Properties properties = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            // Build information is diagnostic only: report it as unknown rather than fail.
        }
        return new BuildInfo(known(properties.getProperty("version")), known(properties.getProperty("commit")),
                known(properties.getProperty("build_date")), System.getProperty("java.version", "unknown"));
    }

    /** Unset or unfiltered values (still "${...}") read as "unknown". */
    private static String known(String value) {
        return value == null || value.isBlank() || value.contains("${") ? "unknown" : value.strip();
    }
}
