package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * COPY through pgjdbc's CopyManager (Perseus closes the connection on COPY FROM STDIN). The data is generated in
 * COPY text format with no characters that need escaping, so what comes back out must be the same bytes.
 */
class CopyTest {

    private static final int ROWS = 100_000;
    /** About 12 MB: 100,000 rows of an id and a 112-character payload. */
    private static final int PAYLOAD_CHARS = 112;

    private static byte[] data;

    @BeforeAll
    static void generateDataAndTable() throws SQLException {
        StringBuilder sb = new StringBuilder(ROWS * (PAYLOAD_CHARS + 8));
        Random random = new Random(42);
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_=+()[]{}<>/|ąęłńóśźż";
        for (int i = 1; i <= ROWS; i++) {
            sb.append(i).append('\t');
            for (int j = 0; j < PAYLOAD_CHARS; j++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            sb.append('\n');
        }
        data = sb.toString().getBytes(StandardCharsets.UTF_8);
        assertTrue(data.length > 10 << 20, "at least 10 MB, got " + data.length);
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("create table if not exists copy_data (id int primary key, payload text not null)");
            st.execute("truncate copy_data");
        }
    }

    @AfterAll
    static void dropTable() throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("drop table if exists copy_data");
        }
    }

    private static Connection connect() throws SQLException {
        return Targets.forTenant(Fixtures.TENANT_A).connect();
    }

    @Test
    void tenMegabytesInAndOutAreByteIdentical() throws Exception {
        try (Connection c = connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("truncate copy_data");
            }
            long in = copy.copyIn("copy copy_data (id, payload) from stdin", new ByteArrayInputStream(data), 65536);
            assertEquals(ROWS, in);
            c.commit();
            c.setAutoCommit(true);

            MessageDigest sha = sha256();
            long out;
            try (OutputStream digest = new DigestOutputStream(OutputStream.nullOutputStream(), sha)) {
                out = copy.copyOut("copy (select id, payload from copy_data order by id) to stdout", digest);
            }
            assertEquals(ROWS, out);
            assertArrayEquals(sha256().digest(data), sha.digest(), "SHA-256 of the data out equals the data in");

            // The session is still usable, and the rows went to this tenant's schema.
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select count(*), current_schema() from copy_data")) {
                rs.next();
                assertEquals(ROWS, rs.getInt(1));
                assertEquals(Fixtures.TENANT_A.schema(), rs.getString(2));
            }
        }
    }

    @Test
    void badRowFailsTheCopyAndTheSessionRecovers() throws SQLException {
        try (Connection c = connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            byte[] bad = "1000001\tfine\nnot-a-number\toops\n".getBytes(StandardCharsets.UTF_8);
            SQLException e = assertThrows(SQLException.class,
                    () -> copy.copyIn("copy copy_data (id, payload) from stdin", new ByteArrayInputStream(bad)));
            assertEquals("22P02", e.getSQLState());
            assertEquals(0, count(c, "select count(*) from copy_data where id = 1000001"), "the copy was atomic");
            assertEquals(1, count(c, "select 1"));
        }
    }

    @Test
    void clientAbortedCopyIsRolledBackAndTheSessionRecovers() throws SQLException {
        try (Connection c = connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            CopyIn in = copy.copyIn("copy copy_data (id, payload) from stdin");
            byte[] row = "2000001\tabandoned\n".getBytes(StandardCharsets.UTF_8);
            in.writeToCopy(row, 0, row.length);
            in.flushCopy();
            in.cancelCopy(); // sends CopyFail
            assertEquals(0, count(c, "select count(*) from copy_data where id = 2000001"));
            assertEquals(1, count(c, "select 1"));
        }
    }

    private static int count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static MessageDigest sha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256");
    }
}
