package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reply path in runs ({@link ReplyRuns}): whatever way the network cuts the server's bytes, the client receives
 * exactly the bytes of its own replies, the lease ends at the final ReadyForQuery and not before, and what the proxy
 * injected never reaches the client, even when its replies share a read with the client's.
 */
class ReplyRunsOnEmbeddedChannelsTest {

    /** A result set with an asynchronous notice inside it: all forwarded as the server sent it. */
    private static final byte[] RESULT = PgWire.concat(PgWire.rowDescription("aid", "abalance"),
            PgWire.dataRow("1", "0"), PgWire.dataRow("2", "-10"), PgWire.notice("a notice among the rows"),
            PgWire.dataRow("3", "x".repeat(300)), PgWire.commandComplete("SELECT 3"), PgWire.readyForQuery('I'));

    private final LeaseRig rig = new LeaseRig(1);

    @AfterEach
    void tearDown() {
        rig.close();
    }

    @Test
    void aResultCutAtEveryByteReachesTheClientExactlyAndTheLeaseEndsOnlyAtItsReadyForQuery() {
        LeaseRig.Client alice = rig.loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        for (int cut = 1; cut < RESULT.length; cut++) {
            alice.send(PgWire.query("select " + cut));
            assertEquals(List.of("select " + cut), server.queries());
            server.replyRaw(Arrays.copyOfRange(RESULT, 0, cut));
            int complete = completeMessagesIn(RESULT, cut);
            assertArrayEquals(Arrays.copyOfRange(RESULT, 0, complete), alice.receivedBytes(),
                    "the whole messages before the cut at " + cut + ", nothing more");
            assertEquals(0, rig.pool().idleCount(), "still leased before the ReadyForQuery (cut at " + cut + ")");
            server.replyRaw(Arrays.copyOfRange(RESULT, cut, RESULT.length));
            assertArrayEquals(Arrays.copyOfRange(RESULT, complete, RESULT.length), alice.receivedBytes(),
                    "the rest, byte for byte (cut at " + cut + ")");
            assertEquals(1, rig.pool().idleCount(), "back in the pool after the ReadyForQuery (cut at " + cut + ")");
        }
    }

    @Test
    void aResultArrivingOneByteAtATimeIsForwardedAsEachMessageCompletes() {
        LeaseRig.Client alice = rig.loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.query("select 1"));
        server.queries();
        byte[] received = new byte[0];
        for (int i = 0; i < RESULT.length; i++) {
            server.replyRaw(new byte[] {RESULT[i]});
            received = PgWire.concat(received, alice.receivedBytes());
            assertArrayEquals(Arrays.copyOfRange(RESULT, 0, completeMessagesIn(RESULT, i + 1)), received,
                    "after byte " + i);
            assertEquals(i == RESULT.length - 1 ? 1 : 0, rig.pool().idleCount(), "after byte " + i);
        }
    }

    @Test
    void injectedRepliesInTheSameReadAsTheClientsNeverReachItWhereverTheBytesAreCut() {
        LeaseRig.Client alice = rig.loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        // search_path and the settings, swallowed, then the client's own result, all in one stream.
        byte[] stream = PgWire.concat(PgWire.commandComplete("SET"), PgWire.readyForQuery('I'),
                PgWire.commandComplete("SET"), PgWire.readyForQuery('I'), RESULT);
        for (int cut = 1; cut < stream.length; cut++) {
            changeSettings(alice, server);
            alice.send(PgWire.query("select " + cut));
            List<String> sent = server.queries();
            assertEquals(3, sent.size(), "search_path, the settings, then the client's statement: " + sent);
            server.replyRaw(Arrays.copyOfRange(stream, 0, cut));
            byte[] received = alice.receivedBytes();
            assertEquals(0, rig.pool().idleCount(), "still leased (cut at " + cut + ")");
            server.replyRaw(Arrays.copyOfRange(stream, cut, stream.length));
            assertArrayEquals(RESULT, PgWire.concat(received, alice.receivedBytes()),
                    "only the client's own replies, byte for byte (cut at " + cut + ")");
            assertEquals(1, rig.pool().idleCount(), "back in the pool (cut at " + cut + ")");
        }
    }

    @Test
    void aParseThePoolAnswersItselfComesBetweenTheRepliesAroundItWhereverTheBytesAreCut() {
        LeaseRig.Client first = rig.loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        first.send(PgWire.concat(PgWire.parse("s1", "select 1"), PgWire.sync()));
        assertEquals("[C, P, S]", server.received().toString().replaceAll("C\\([^)]*\\)", "C"),
                "a Close of the proxy's own (swallowed) makes room for the statement");
        server.reply(PgWire.closeComplete(), PgWire.parseComplete(), PgWire.readyForQuery('I'));
        assertEquals("[1, Z]", first.received().toString());

        // Parse "" goes to the server; Parse s1 is answered by the proxy (the backend has it) after its reply.
        byte[] stream = PgWire.concat(PgWire.parseComplete(), PgWire.bindComplete(), PgWire.dataRow("1"),
                PgWire.commandComplete("SELECT 1"), PgWire.readyForQuery('I'));
        byte[] expected = PgWire.concat(PgWire.parseComplete(), PgWire.parseComplete(), PgWire.bindComplete(),
                PgWire.dataRow("1"), PgWire.commandComplete("SELECT 1"), PgWire.readyForQuery('I'));
        for (int cut = 1; cut < stream.length; cut++) {
            LeaseRig.Client client = rig.loggedIn("alice", "tenant_a");
            client.send(PgWire.concat(PgWire.parse("", "select " + cut), PgWire.parse("s1", "select 1"),
                    PgWire.bind("s1"), PgWire.execute(), PgWire.sync()));
            assertEquals("PBES", tags(server.received()), "s1 is not parsed again");
            server.replyRaw(Arrays.copyOfRange(stream, 0, cut));
            byte[] received = client.receivedBytes();
            assertEquals(0, rig.pool().idleCount(), "still leased (cut at " + cut + ")");
            server.replyRaw(Arrays.copyOfRange(stream, cut, stream.length));
            assertArrayEquals(expected, PgWire.concat(received, client.receivedBytes()),
                    "one reply per message, in order (cut at " + cut + ")");
            assertEquals(1, rig.pool().idleCount(), "back in the pool (cut at " + cut + ")");
            client.disconnect();
        }
    }

    /** A SET by the client: the proxy asks for the settings, and the next lease repeats search_path and them. */
    private static void changeSettings(LeaseRig.Client alice, LeaseRig.Server server) {
        alice.send(PgWire.query("set search_path = elsewhere"));
        server.queries();
        server.complete('I', "SET");
        List<String> question = server.queries();
        assertEquals(1, question.size(), "the question for the unreported settings: " + question);
        int columns = question.get(0).split("current_setting\\(", -1).length - 1;
        server.reply(PgWire.dataRow(Collections.nCopies(columns, "0").toArray(String[]::new)),
                PgWire.commandComplete("SELECT 1"), PgWire.readyForQuery('I'));
        assertEquals("[C(SET), Z]", alice.received().toString(), "the answer is swallowed");
    }

    private static String tags(List<PgWire.Message> messages) {
        StringBuilder tags = new StringBuilder();
        messages.forEach(m -> tags.append(m.tag()));
        return tags.toString();
    }

    /** The length of the whole messages among the first {@code length} bytes of {@code stream}. */
    private static int completeMessagesIn(byte[] stream, int length) {
        int at = 0;
        while (at + 5 <= length) {
            int frame = 1 + ((stream[at + 1] & 0xff) << 24 | (stream[at + 2] & 0xff) << 16
                    | (stream[at + 3] & 0xff) << 8 | (stream[at + 4] & 0xff));
            if (at + frame > length) {
                break;
            }
            at += frame;
        }
        return at;
    }
}
