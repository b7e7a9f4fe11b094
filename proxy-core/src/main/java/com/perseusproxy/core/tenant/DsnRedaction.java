package com.perseusproxy.core.tenant;

import java.util.regex.Pattern;

/**
 * Masks passwords that drivers and pools may echo in their messages: the {@code user:password@} part of a URL and
 * {@code password=...} parameters. Applied to every driver message this package puts into its own exceptions.
 */
public final class DsnRedaction {

    private static final Pattern URL_USER_INFO = Pattern.compile("(://[^/:@\\s]*):[^@\\s]*@");
    private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)(password\\s*=\\s*)[^&;\\s,)]*");

    private DsnRedaction() {
    }

    public static String scrub(String text) {
        if (text == null) {
            return "no details given";
        }
        String masked = URL_USER_INFO.matcher(text).replaceAll("$1:*****@");
        return PASSWORD_PARAM.matcher(masked).replaceAll("$1*****");
    }
}
