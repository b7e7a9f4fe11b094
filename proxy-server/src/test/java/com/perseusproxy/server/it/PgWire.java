package com.perseusproxy.server.it;

import com.ongres.scram.client.ScramClient;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately naive PostgreSQL wire-protocol client over a raw socket, for what real drivers never send: malformed
 * messages, odd protocol versions, cancel requests with chosen keys. It can also log in properly (cleartext, md5 and
 * SCRAM-SHA-256) so malformed input can be sent after authentication, and so tests can see which authentication
 * request a server makes.
 */
public final class PgWire implements Closeable {

    public static final int PROTOCOL_3_0 = 3 << 16;
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;
    public static final int CANCEL_REQUEST_CODE = 80877102;

    /** A backend message: its type byte and its body (without the length word). */
    public record Message(char type, byte[] body) {
        /** The fields of an ErrorResponse or NoticeResponse, by field code ('C' = SQLSTATE, 'M' = message). */
        public Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                fields.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return fields;
        }

        public String sqlState() {
            return fields().get('C');
        }

        public int int32(int offset) {
            return ByteBuffer.wrap(body, offset, 4).getInt();
        }

        @Override
        public String toString() {
            return type == 'E' || type == 'N' ? type + fields().toString() : type + "(" + body.length + " bytes)";
        }
    }

    /** The server refused a login or a query with an ErrorResponse. */
    public static final class ServerError extends RuntimeException {
        private final Message error;

        ServerError(Message error) {
            super(error.fields().get('M') + " (SQLSTATE " + error.sqlState() + ")");
            this.error = error;
        }

        public String sqlState() {
            return error.sqlState();
        }
    }

    /** What a completed login revealed. */
    public record Login(List<Integer> authRequests, int backendPid, int cancelKey, Map<String, String> parameters,
                        Message negotiateProtocolVersion) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private PgWire(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A connection whose reads give up after {@code readTimeout}, so no test can hang on a silent server. */
    public static PgWire open(String host, int port, Duration readTimeout) {
        try {
            Socket socket = new Socket(host, port);
            socket.setSoTimeout((int) readTimeout.toMillis());
            socket.setTcpNoDelay(true);
            return new PgWire(socket);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to " + host + ":" + port, e);
        }
    }

    /** A connection over an already connected socket, e.g. a TLS socket made after an SSLRequest was accepted. */
    public static PgWire over(Socket socket) {
        try {
            return new PgWire(socket);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the socket", e);
        }
    }

    public static PgWire open(Target target) {
        return open(target.host(), target.port(), Duration.ofSeconds(10));
    }

    // ---- building messages

    /** A startup-phase packet: length, then the given int32 code (a protocol version or a request code), then body. */
    public static byte[] startupPacket(int code, Map<String, String> parameters) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        parameters.forEach((name, value) -> {
            cstring(body, name);
            cstring(body, value);
        });
        body.write(0);
        return ByteBuffer.allocate(8 + body.size()).putInt(8 + body.size()).putInt(code).put(body.toByteArray())
                .array();
    }

    /** A regular message: type byte, length (counting itself), body. */
    public static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    /** Parse of an unnamed statement without declared parameter types. */
    public static byte[] parse(String sql) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cstring(body, "");
        cstring(body, sql);
        body.writeBytes(new byte[] {0, 0});
        return message('P', body.toByteArray());
    }

    /** Parse of a named statement without declared parameter types. */
    public static byte[] parse(String name, String sql) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cstring(body, name);
        cstring(body, sql);
        body.writeBytes(new byte[] {0, 0});
        return message('P', body.toByteArray());
    }

    /** Bind of a named statement to the unnamed portal, with text parameters (null for SQL NULL), text results. */
    public static byte[] bind(String statement, String... textParams) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        cstring(body, "");
        cstring(body, statement);
        body.writeBytes(new byte[] {0, 0}); // no parameter format codes: all text
        body.writeBytes(ByteBuffer.allocate(2).putShort((short) textParams.length).array());
        for (String param : textParams) {
            if (param == null) {
                body.writeBytes(ByteBuffer.allocate(4).putInt(-1).array());
            } else {
                byte[] value = param.getBytes(StandardCharsets.UTF_8);
                body.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
                body.writeBytes(value);
            }
        }
        body.writeBytes(new byte[] {0, 0}); // no result format codes: all text
        return message('B', body.toByteArray());
    }

    /** Describe of a named statement (ParameterDescription, then RowDescription or NoData). */
    public static byte[] describeStatement(String name) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write('S');
        cstring(body, name);
        return message('D', body.toByteArray());
    }

    /** Close of a named statement (CloseComplete, even if it does not exist). */
    public static byte[] closeStatement(String name) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write('S');
        cstring(body, name);
        return message('C', body.toByteArray());
    }

    /** Bind of the unnamed statement to the unnamed portal, no parameters, text results. */
    public static byte[] bind() {
        // portal "", statement "", 0 parameter formats, 0 parameters, 0 result formats
        return message('B', new byte[8]);
    }

    /** Describe of the unnamed portal. */
    public static byte[] describePortal() {
        return message('D', new byte[] {'P', 0});
    }

    /** Describe of the unnamed statement (answered with ParameterDescription and RowDescription or NoData). */
    public static byte[] describeStatement() {
        return message('D', new byte[] {'S', 0});
    }

    /** Execute of the unnamed portal, all rows. */
    public static byte[] execute() {
        return message('E', new byte[] {0, 0, 0, 0, 0});
    }

    public static byte[] sync() {
        return message('S', new byte[0]);
    }

    public static byte[] flush() {
        return message('H', new byte[0]);
    }

    /** Parse, Bind, Describe, Execute and Sync of one statement, as pgjdbc sends it. */
    public static byte[] extendedQuery(String sql) {
        return concat(concat(concat(parse(sql), bind()), concat(describePortal(), execute())), sync());
    }

    /** The startup parameters a pgjdbc client with {@code currentSchema} sends. */
    public static Map<String, String> startupParameters(Target target) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", target.user());
        params.put("database", target.database());
        params.put("search_path", target.searchPath());
        params.put("application_name", "perseus-it-raw");
        params.put("client_encoding", "UTF8");
        return params;
    }

    // ---- sending and receiving

    public void send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next message, or null when the server closed the connection. */
    public Message read() {
        try {
            int type = in.read();
            if (type < 0) {
                return null;
            }
            int length = in.readInt();
            if (length < 4 || length > 64 << 20) {
                throw new IllegalStateException("server sent an implausible length " + length);
            }
            byte[] body = new byte[length - 4];
            in.readFully(body);
            return new Message((char) type, body);
        } catch (EOFException e) {
            return null;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer from the server within the read timeout", e);
        } catch (SocketException e) {
            // A reset is how some servers close on garbage; for the caller it is just a close.
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One byte (the answer to SSLRequest / GSSENCRequest), or -1 on close. */
    public int readByte() {
        try {
            return in.read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer from the server within the read timeout", e);
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Reads until the server sends an ErrorResponse or closes. Returns the ErrorResponse (then the server is expected
     * to close), or null for a plain close. Fails when the server answers with anything that suggests it accepted the
     * input (authentication requests excepted: they prove nothing either way and are skipped).
     */
    public Message awaitErrorOrClose() {
        while (true) {
            Message m = read();
            if (m == null || m.type() == 'E') {
                return m;
            }
            if (m.type() != 'N' && m.type() != 'R') {
                throw new AssertionError("expected an error or a close, got " + m);
            }
        }
    }

    /** True when the server has closed the connection (reads EOF) within the read timeout. */
    public boolean closedByServer() {
        while (true) {
            Message m = read();
            if (m == null) {
                return true;
            }
            if (m.type() != 'E' && m.type() != 'N') {
                return false;
            }
        }
    }

    // ---- logging in and querying

    /** Sends a protocol 3.0 startup with the target's parameters and authenticates. */
    public Login login(Target target) {
        return login(target, PROTOCOL_3_0, startupParameters(target));
    }

    /** Sends the given startup packet, answers the authentication requests, and reads up to ReadyForQuery. */
    public Login login(Target target, int protocol, Map<String, String> parameters) {
        send(startupPacket(protocol, parameters));
        List<Integer> authRequests = new ArrayList<>();
        Map<String, String> serverParams = new LinkedHashMap<>();
        Message negotiate = null;
        ScramClient scram = null;
        int pid = 0;
        int key = 0;
        while (true) {
            Message m = read();
            if (m == null) {
                throw new AssertionError("server closed the connection during login");
            }
            switch (m.type()) {
                case 'v' -> negotiate = m;
                case 'R' -> {
                    int request = m.int32(0);
                    authRequests.add(request);
                    scram = answerAuth(target, m, request, scram);
                }
                case 'S' -> {
                    String[] kv = new String(m.body(), StandardCharsets.UTF_8).split("\0");
                    serverParams.put(kv[0], kv.length > 1 ? kv[1] : "");
                }
                case 'K' -> {
                    pid = m.int32(0);
                    key = m.int32(4);
                }
                case 'E' -> throw new ServerError(m);
                case 'Z' -> {
                    return new Login(authRequests, pid, key, serverParams, negotiate);
                }
                default -> {
                    // NoticeResponse and anything newer: irrelevant to logging in.
                }
            }
        }
    }

    private ScramClient answerAuth(Target target, Message m, int request, ScramClient scram) {
        switch (request) {
            case 0 -> {
                return scram; // AuthenticationOk
            }
            case 3 -> send(message('p', cstring(target.password())));
            case 5 -> {
                byte[] salt = Arrays.copyOfRange(m.body(), 4, 8);
                String inner = md5Hex((target.password() + target.user()).getBytes(StandardCharsets.UTF_8));
                byte[] outerInput = concat(inner.getBytes(StandardCharsets.US_ASCII), salt);
                send(message('p', cstring("md5" + md5Hex(outerInput))));
            }
            case 10 -> {
                List<String> mechanisms = new ArrayList<>();
                for (String s : new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8).split("\0")) {
                    if (!s.isEmpty()) {
                        mechanisms.add(s);
                    }
                }
                ScramClient client = ScramClient.builder().advertisedMechanisms(mechanisms).username("*")
                        .password(target.password().toCharArray()).build();
                byte[] first = client.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                cstring(body, client.getScramMechanism().getName());
                body.writeBytes(ByteBuffer.allocate(4).putInt(first.length).array());
                body.writeBytes(first);
                send(message('p', body.toByteArray()));
                return client;
            }
            case 11 -> {
                try {
                    scram.serverFirstMessage(new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8));
                } catch (Exception e) {
                    throw new AssertionError("bad SCRAM server-first-message", e);
                }
                send(message('p', scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8)));
            }
            case 12 -> {
                try {
                    scram.serverFinalMessage(new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8));
                } catch (Exception e) {
                    throw new AssertionError("SCRAM server signature did not verify", e);
                }
            }
            default -> throw new AssertionError("unsupported authentication request " + request);
        }
        return scram;
    }

    /** Sends a simple Query and returns every message up to and including ReadyForQuery. */
    public List<Message> simpleQuery(String sql) {
        send(message('Q', cstring(sql)));
        return readUntilReady(1);
    }

    /** Reads every message up to and including the {@code count}-th ReadyForQuery. */
    public List<Message> readUntilReady(int count) {
        List<Message> messages = new ArrayList<>();
        int ready = 0;
        while (ready < count) {
            Message m = read();
            if (m == null) {
                throw new AssertionError("server closed the connection; got so far: " + messages);
            }
            messages.add(m);
            if (m.type() == 'Z') {
                ready++;
            }
        }
        return messages;
    }

    /** The types of the messages, e.g. "12TDCZ", for compact assertions. */
    public static String types(List<Message> messages) {
        StringBuilder sb = new StringBuilder();
        messages.forEach(m -> sb.append(m.type()));
        return sb.toString();
    }

    /** The text of each DataRow's first column. */
    public static List<String> firstColumn(List<Message> messages) {
        List<String> values = new ArrayList<>();
        for (Message m : messages) {
            if (m.type() == 'D') {
                int length = m.int32(2);
                values.add(length < 0 ? null : new String(m.body(), 6, length, StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    /** The transaction status of each ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed one. */
    public static String transactionStates(List<Message> messages) {
        StringBuilder sb = new StringBuilder();
        messages.stream().filter(m -> m.type() == 'Z').forEach(m -> sb.append((char) m.body()[0]));
        return sb.toString();
    }

    /** The first column of each DataRow of a simple query's result, as text; fails on an error. */
    public List<String> queryColumn(String sql) {
        List<Message> messages = simpleQuery(sql);
        for (Message m : messages) {
            if (m.type() == 'E') {
                throw new ServerError(m);
            }
        }
        return firstColumn(messages);
    }

    /** Sends a CancelRequest on a new connection, then waits for the server to close it, as libpq does. */
    public static void cancel(String host, int port, int pid, int key) {
        try (PgWire wire = open(host, port, Duration.ofSeconds(5))) {
            wire.send(ByteBuffer.allocate(16).putInt(16).putInt(CANCEL_REQUEST_CODE).putInt(pid).putInt(key).array());
            wire.readByte();
        }
    }

    /** Politely ends the session (Terminate), then closes the socket. */
    public void terminate() {
        try {
            send(message('X', new byte[0]));
        } catch (UncheckedIOException ignored) {
            // already closed by the server
        }
        close();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    // ---- helpers

    public static byte[] cstring(String s) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        cstring(b, s);
        return b.toByteArray();
    }

    private static void cstring(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    /** The messages one after the other, for sending in one write (a pipeline). */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static String md5Hex(byte[] input) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(input));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
