package com.perseusproxy.tools;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Where the tools get passwords when no flag gives them: a prompt without echo when standard input is a terminal,
 * else one line of standard input per password (so {@code printf '%s\n%s\n' "$A" "$B" | perseus-tools ...} works).
 * Either way the password stays out of shell history and the process list.
 */
final class PasswordInput {

    private final InputStream in;
    private final Console console;
    private BufferedReader lines;

    private PasswordInput(InputStream in, Console console) {
        this.in = in;
        this.console = console;
    }

    /** Prompts only when {@code in} is the process's own terminal. */
    static PasswordInput from(InputStream in) {
        return new PasswordInput(in, in == System.in ? System.console() : null);
    }

    /**
     * @param flag     the password given on the command line, if any (Perseus's tools take it that way)
     * @param prompt   what to ask on a terminal, e.g. "Backend password for app@db1/mm"
     * @param flagName the flag that could have given it, for the error message
     * @param confirm  on a terminal, ask twice (for passwords being set, where a typo locks someone out)
     */
    String read(Optional<String> flag, String prompt, String flagName, boolean confirm)
            throws UsageException, IOException {
        if (flag.isPresent() && !flag.get().isEmpty()) {
            return flag.get();
        }
        String password = console != null ? prompt(prompt, confirm) : nextLine();
        if (password == null || password.isEmpty()) {
            throw new UsageException("no " + lowerFirst(prompt) + " given: "
                    + (flagName == null ? "" : "pass " + flagName + " or ") + "write it as a line on standard input");
        }
        return password;
    }

    /** "Tenant password for Alice@db/s" becomes "tenant password for Alice@db/s": names keep their case. */
    private static String lowerFirst(String text) {
        return text.isEmpty() ? text : text.substring(0, 1).toLowerCase(Locale.ROOT) + text.substring(1);
    }

    private String nextLine() throws IOException {
        if (lines == null) {
            lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        }
        return lines.readLine();
    }

    private String prompt(String prompt, boolean confirm) throws UsageException {
        char[] first = console.readPassword("%s: ", prompt);
        if (first == null) {
            return null;
        }
        try {
            if (confirm) {
                char[] again = console.readPassword("%s (again): ", prompt);
                try {
                    if (again == null || !Arrays.equals(first, again)) {
                        throw new UsageException("the two entries of the " + lowerFirst(prompt)
                                + " differ: nothing was changed, try again");
                    }
                } finally {
                    if (again != null) {
                        Arrays.fill(again, '\0');
                    }
                }
            }
            return new String(first);
        } finally {
            Arrays.fill(first, '\0');
        }
    }
}
