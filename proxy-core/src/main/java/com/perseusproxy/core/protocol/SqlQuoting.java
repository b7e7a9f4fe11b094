package com.perseusproxy.core.protocol;

/** Quoting for the few SQL statements the proxy writes itself. Nothing a client sends is ever pasted unquoted. */
public final class SqlQuoting {

    private SqlQuoting() {
    }

    /** A double-quoted identifier: {@code my"schema} becomes {@code "my""schema"}. */
    public static String identifier(String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("identifier contains a NUL byte");
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /**
     * A string literal that means the same whatever {@code standard_conforming_strings} is: values with a backslash
     * use the escape-string form {@code E'...'} with backslashes doubled.
     */
    public static String literal(String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("literal contains a NUL byte");
        }
        String quoted = value.replace("'", "''");
        if (quoted.indexOf('\\') >= 0) {
            return "E'" + quoted.replace("\\", "\\\\") + "'";
        }
        return "'" + quoted + "'";
    }
}
