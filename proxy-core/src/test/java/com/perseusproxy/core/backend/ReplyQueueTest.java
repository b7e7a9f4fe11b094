package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.ReplyQueue.Completion;
import com.perseusproxy.core.backend.ReplyQueue.Expected;
import com.perseusproxy.core.backend.ReplyQueue.Outcome;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reply queue on plain objects: which backend message completes which entry, where replies go, when the proxy's
 * own answers are emitted, and what an error skips. Every message handed to the queue must end up either at the sink
 * or released; the test checks both.
 */
class ReplyQueueTest {

    private final List<PgMessage> delivered = new ArrayList<>();
    private final List<PgMessage> fromBackend = new ArrayList<>();
    private final List<String> outcomes = new ArrayList<>();
    private final ReplyQueue queue = new ReplyQueue(UnpooledByteBufAllocator.DEFAULT, delivered::add);

    @AfterEach
    void everyMessageDeliveredOrReleased() {
        for (PgMessage m : fromBackend) {
            boolean atSink = delivered.stream().anyMatch(d -> d == m);
            assertEquals(atSink ? 1 : 0, m.refCnt(), () -> "message " + m.tag() + (atSink ? " delivered" : " swallowed"));
        }
        delivered.forEach(PgMessage::release);
    }

    @Test
    void forwardsRepliesInOrderAndEmptiesAtReadyForQuery() {
        expectForward(Completion.PARSE, Completion.BIND, Completion.DESCRIBE, Completion.EXECUTE,
                Completion.SYNC_POINT);
        reply('1', '2', 'T', 'D', 'D', 'C');
        assertFalse(queue.isEmpty());
        reply('Z');
        assertTrue(queue.isEmpty());
        assertEquals("12TDDCZ", tags());
    }

    @Test
    void describeOfAStatementEndsAtRowDescriptionOrNoData() {
        expectForward(Completion.DESCRIBE, Completion.DESCRIBE, Completion.SYNC_POINT);
        queue.expect(Expected.answer(Completion.CLOSE, a -> frame(a, '3'), record("answer")));
        reply('t', 'T');
        assertEquals(List.of(), outcomes, "not before the second Describe is answered");
        reply('t', 'n');
        assertEquals(List.of(), outcomes, "the answer waits behind the Sync");
        reply('Z');
        assertEquals("tTtnZ3", tags());
        assertEquals(List.of("answer completed"), outcomes);
    }

    @Test
    void executeEndsAtCommandCompleteEmptyQueryOrSuspendedPortal() {
        expectForward(Completion.EXECUTE, Completion.EXECUTE, Completion.EXECUTE, Completion.EXECUTE,
                Completion.SYNC_POINT);
        reply('D', 's', 'I', 'H', 'd', 'd', 'c', 'C', 'G', 'C', 'Z');
        assertTrue(queue.isEmpty());
        assertEquals("DsIHddcCGCZ", tags());
    }

    @Test
    void answersWaitForEveryEarlierReply() {
        Outcome noted = record("parse");
        queue.expect(Expected.answer(Completion.PARSE, a -> frame(a, '1'), noted));
        assertEquals("1", tags(), "nothing earlier is owed: answered at once");
        expectForward(Completion.BIND, Completion.EXECUTE);
        queue.expect(Expected.answer(Completion.CLOSE, a -> frame(a, '3'), record("close")));
        expectForward(Completion.SYNC_POINT);
        assertEquals("1", tags());
        reply('2', 'D');
        assertEquals("12D", tags());
        reply('C');
        assertEquals("12DC3", tags(), "the Close is answered right after the Execute it followed");
        reply('Z');
        assertEquals("12DC3Z", tags());
        assertEquals(List.of("parse completed", "close completed"), outcomes);
    }

    @Test
    void swallowedRepliesStayWithTheProxyButErrorsReachTheClient() {
        queue.expect(Expected.swallow(Completion.CLOSE, null, record("close")));
        queue.expect(Expected.swallow(Completion.PARSE, "perseus_x", record("reparse")));
        expectForward(Completion.BIND, Completion.EXECUTE, Completion.SYNC_POINT);
        assertEquals(List.of("perseus_x"), queue.pendingPreparations());
        reply('3', '1', '2', 'C', 'Z');
        assertEquals("2CZ", tags());

        queue.expect(Expected.swallow(Completion.PARSE, "perseus_y", record("failing reparse")));
        expectForward(Completion.BIND, Completion.EXECUTE, Completion.SYNC_POINT);
        reply('E', 'Z');
        assertEquals("2CZ" + "EZ", tags(), "the re-Parse's error stands for the Bind the backend then skipped");
        assertEquals(List.of("close completed", "reparse completed", "failing reparse failed 42P01"), outcomes);
    }

    @Test
    void errorSkipsEverythingUpToTheNextSyncIncludingAnswers() {
        expectForward(Completion.PARSE);
        queue.expect(Expected.forwardParse("perseus_a", record("parse a")));
        queue.expect(Expected.answer(Completion.PARSE, a -> frame(a, '1'), record("answered parse")));
        queue.expect(Expected.answer(Completion.CLOSE, a -> frame(a, '3'), record("answered close")));
        expectForward(Completion.BIND, Completion.SYNC_POINT, Completion.BIND, Completion.SYNC_POINT);
        reply('E');
        assertEquals(List.of("parse a skipped", "answered parse skipped", "answered close skipped"), outcomes);
        reply('Z', '2', 'Z');
        assertEquals("EZ2Z", tags());
        assertTrue(queue.isEmpty());
    }

    @Test
    void messagesSentAfterAnErrorAreSkippedUntilTheSyncIsSent() {
        expectForward(Completion.PARSE);
        reply('E'); // e.g. Parse, Flush: the error arrives before the client sends the rest of its group
        queue.expect(Expected.answer(Completion.PARSE, a -> frame(a, '1'), record("late answer")));
        queue.expect(Expected.forwardParse("perseus_b", record("late parse")));
        assertTrue(queue.isEmpty(), "skipped as they come");
        assertEquals("E", tags());
        expectForward(Completion.SYNC_POINT, Completion.BIND, Completion.SYNC_POINT);
        reply('Z', '2', 'Z');
        assertEquals("EZ2Z", tags());
        assertEquals(List.of("late answer skipped", "late parse skipped"), outcomes);
    }

    @Test
    void anErrorInASimpleQueryOrAtSyncSkipsNothing() {
        expectForward(Completion.SYNC_POINT); // a simple Query
        queue.expect(Expected.answer(Completion.PARSE, a -> frame(a, '1'), record("parse")));
        expectForward(Completion.SYNC_POINT); // a Sync whose COMMIT fails (deferred constraint)
        reply('T', 'D', 'E', 'Z');
        assertEquals("TDEZ1", tags());
        reply('E', 'Z');
        assertEquals("TDEZ1EZ", tags());
        assertEquals(List.of("parse completed"), outcomes);
        assertTrue(queue.isEmpty());
    }

    @Test
    void aMessageSentToFailGetsTheProxysErrorInstead() {
        queue.expect(Expected.replaceError(Completion.PARSE,
                a -> error(a, "42P05", "prepared statement \"s\" already exists")));
        expectForward(Completion.BIND, Completion.EXECUTE, Completion.SYNC_POINT);
        reply('E', 'Z');
        assertEquals("EZ", tags());
        assertEquals("42P05", MessageReader.errorFields(delivered.get(0)).get('C'));
    }

    @Test
    void asynchronousMessagesPassWhateverIsExpected() {
        queue.expect(Expected.swallow(Completion.PARSE, null, Outcome.NONE));
        expectForward(Completion.SYNC_POINT);
        reply('N', '1', 'S', 'A', 'Z');
        assertEquals("NSAZ", tags());
    }

    @Test
    void unexpectedReadyForQueryRecoversAtTheNextSyncPoint() {
        expectForward(Completion.EXECUTE, Completion.SYNC_POINT);
        reply('Z');
        assertEquals("Z", tags());
        assertTrue(queue.isEmpty());
        reply('N'); // nothing owed: passed on
        assertEquals("ZN", tags());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private void expectForward(Completion... completions) {
        for (Completion completion : completions) {
            queue.expect(Expected.forward(completion, Outcome.NONE));
        }
    }

    private void reply(char... tags) {
        for (char tag : tags) {
            PgMessage message = new PgMessage(tag == 'E'
                    ? error(UnpooledByteBufAllocator.DEFAULT, "42P01", "relation does not exist")
                    : frame(UnpooledByteBufAllocator.DEFAULT, tag));
            fromBackend.add(message);
            queue.onReply(message);
        }
    }

    private String tags() {
        StringBuilder sb = new StringBuilder();
        delivered.forEach(m -> sb.append(m.tag()));
        return sb.toString();
    }

    private Outcome record(String name) {
        return new Outcome() {
            @Override
            public void completed() {
                outcomes.add(name + " completed");
            }

            @Override
            public void failed(String sqlState) {
                outcomes.add(name + " failed " + sqlState);
            }

            @Override
            public void skipped() {
                outcomes.add(name + " skipped");
            }
        };
    }

    /** A message with a one-byte body ('Z' needs its status) or, for other tags, an empty one. */
    private static ByteBuf frame(ByteBufAllocator alloc, char tag) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(tag);
        if (tag == 'Z') {
            buf.writeInt(5).writeByte('I');
        } else if (tag == 'C') {
            buf.writeInt(4 + 9).writeBytes("SELECT 1\0".getBytes(StandardCharsets.US_ASCII));
        } else {
            buf.writeInt(4);
        }
        return buf;
    }

    private static ByteBuf error(ByteBufAllocator alloc, String sqlState, String text) {
        byte[] body = ("SERROR\0C" + sqlState + "\0M" + text + "\0\0").getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer().writeByte('E').writeInt(4 + body.length).writeBytes(body);
    }
}
