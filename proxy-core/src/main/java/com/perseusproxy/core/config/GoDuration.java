package com.perseusproxy.core.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Go's duration syntax ({@code time.ParseDuration}), which Perseus's AuthDBDSN pool parameters use: a sequence of
 * decimal numbers with units, e.g. {@code 1h30m}, {@code 90s}, {@code 1.5h}, {@code 500ms}; {@code 0} needs no unit.
 * Negative durations are refused: no setting here has a use for one.
 */
final class GoDuration {

    private static final Pattern TERM = Pattern.compile("(\\d+\\.?\\d*|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");
    private static final Map<String, Long> NANOS_PER_UNIT = Map.of(
            "ns", 1L, "us", 1_000L, "µs", 1_000L, "μs", 1_000L, "ms", 1_000_000L,
            "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    private GoDuration() {
    }

    /** @param what names the setting in the error, e.g. "AuthDBDSN parameter pool_max_conn_lifetime" */
    static Duration parse(String text, String what) throws ConfigException {
        String s = text.strip();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty() || s.startsWith("-")) {
            throw invalid(text, what);
        }
        if (s.startsWith("+")) {
            s = s.substring(1);
        }
        Matcher term = TERM.matcher(s);
        BigDecimal nanos = BigDecimal.ZERO;
        int at = 0;
        while (at < s.length()) {
            if (!term.find(at) || term.start() != at) {
                throw invalid(text, what);
            }
            nanos = nanos.add(new BigDecimal(term.group(1)).multiply(BigDecimal.valueOf(
                    NANOS_PER_UNIT.get(term.group(2)))));
            at = term.end();
        }
        BigInteger whole = nanos.toBigInteger();
        if (whole.bitLength() > 63) {
            throw new ConfigException(what + " is too long a duration (Go durations end near 290 years)");
        }
        return Duration.ofNanos(whole.longValueExact());
    }

    private static ConfigException invalid(String text, String what) {
        return new ConfigException(what + " must be a Go duration such as 30s, 1h30m or 500ms (units ns, us, ms, "
                + "s, m, h), got \"" + text + "\"");
    }
}
