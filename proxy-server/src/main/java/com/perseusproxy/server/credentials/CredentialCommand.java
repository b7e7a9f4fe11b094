package com.perseusproxy.server.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.perseusproxy.core.backend.BackendCredentials;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A command that prints a destination's backend credentials as JSON, {@code {"user": ..., "password": ...,
 * "expires_at": ...}}: how Vault dynamic credentials, AWS Secrets Manager or any other store plugs in (through a
 * small wrapper script when the store's own output differs). Executed without a shell, so nothing in the
 * configuration is ever interpreted by one; bounded by a timeout; its output is never logged (it holds a password),
 * and neither is its error output, which may echo it.
 */
public final class CredentialCommand {

    /** Credentials and when they stop working ({@code null}: they do not expire). */
    public record Issued(BackendCredentials credentials, Instant expiresAt) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_OUTPUT_BYTES = 64 * 1024;

    private final List<String> command;
    private final Duration timeout;

    public CredentialCommand(List<String> command, Duration timeout) {
        if (command.isEmpty() || command.get(0).isBlank()) {
            throw new IllegalArgumentException("a credential command needs at least the program to run");
        }
        this.command = List.copyOf(command);
        this.timeout = timeout;
    }

    /** Runs the command. Blocking; never on an event loop. */
    public Issued run() throws CredentialCommandException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new CredentialCommandException("cannot start credential command " + program() + ": "
                    + e.getMessage() + "; check the path and that it is executable");
        }
        try {
            process.getOutputStream().close();
            // Read on a thread of its own: a command that hangs without closing its output must still time out.
            FutureTask<byte[]> reader = new FutureTask<>(() -> readBounded(process.getInputStream()));
            Thread readerThread = new Thread(reader, "perseus-credential-command");
            readerThread.setDaemon(true);
            readerThread.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new CredentialCommandException("credential command " + program() + " did not finish within "
                        + timeout.toSeconds() + " s");
            }
            byte[] output;
            try {
                output = reader.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof CredentialCommandException c) {
                    throw c;
                }
                throw new IOException(e.getCause().getMessage());
            } catch (TimeoutException e) {
                throw new CredentialCommandException("credential command " + program() + " exited but its output"
                        + " did not end (a child process keeps it open?)");
            }
            if (process.exitValue() != 0) {
                throw new CredentialCommandException("credential command " + program() + " exited with status "
                        + process.exitValue() + "; run it by hand to see why");
            }
            return parse(output);
        } catch (IOException e) {
            throw new CredentialCommandException("reading the output of credential command " + program()
                    + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CredentialCommandException("interrupted while running credential command " + program());
        } finally {
            process.destroyForcibly();
        }
    }

    private Issued parse(byte[] output) throws CredentialCommandException {
        JsonNode root;
        try {
            root = JSON.readTree(output);
        } catch (IOException e) {
            // Jackson's message may quote the output, i.e. the password: say where, not what.
            throw new CredentialCommandException("credential command " + program() + " did not print a JSON object");
        }
        if (root == null || !root.isObject() || !root.path("user").isTextual() || !root.path("password").isTextual()
                || root.path("user").asText().isBlank()) {
            throw new CredentialCommandException("credential command " + program() + " must print a JSON object with"
                    + " string fields \"user\" and \"password\" (and optionally \"expires_at\")");
        }
        Instant expiresAt = null;
        JsonNode expires = root.path("expires_at");
        if (expires.isTextual() && !expires.asText().isBlank()) {
            try {
                expiresAt = Instant.parse(expires.asText());
            } catch (DateTimeParseException e) {
                throw new CredentialCommandException("credential command " + program() + " printed an expires_at"
                        + " that is not an RFC 3339 time such as 2030-01-31T12:00:00Z");
            }
        } else if (expires.isNumber()) {
            expiresAt = Instant.ofEpochSecond(expires.asLong()); // Unix seconds
        }
        return new Issued(new BackendCredentials(root.get("user").asText(), root.get("password").asText()),
                expiresAt);
    }

    private byte[] readBounded(InputStream in) throws IOException, CredentialCommandException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(buffer, 0, n);
            if (out.size() > MAX_OUTPUT_BYTES) {
                throw new CredentialCommandException("credential command " + program() + " printed more than "
                        + MAX_OUTPUT_BYTES + " bytes");
            }
        }
        return out.toByteArray();
    }

    /** The program only: arguments may carry tokens. */
    String program() {
        return "'" + command.get(0) + "'";
    }

    @Override
    public String toString() {
        return "CredentialCommand[" + program() + "]";
    }
}
