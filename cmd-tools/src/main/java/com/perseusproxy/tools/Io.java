package com.perseusproxy.tools;

import java.io.PrintStream;
import java.util.Map;

/**
 * A tool run's surroundings: passwords come from {@code passwords}, results go alone to {@code out} (so scripts can
 * capture them), messages to {@code err}; {@code env} is the process environment.
 */
record Io(PasswordInput passwords, PrintStream out, PrintStream err, Map<String, String> env) {
}
