package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgMessage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Follows a client's own SET of a tracked setting the server does not report (statement_timeout and the like): after
 * a SET, RESET or DISCARD ALL tag, and before the lease ends, the backend connection asks the session for the
 * current values of those settings, so they follow the client to its next backend.
 *
 * <p>Why ask rather than parse the SET: a parser would have to get right SET LOCAL (gone at commit), a SET inside a
 * transaction that rolled back, RESET and SET ... TO DEFAULT, units ({@code '1min'}), several statements in one
 * Query, and the extended protocol; the session itself knows the outcome of all of them. ParameterStatus does not
 * help: the server sends it only for the reported settings. The question is one query, sent only after such a tag,
 * when the ReadyForQuery that ends the lease arrives (every client message answered, no transaction open, so it
 * never sits inside a client's Sync group); that ReadyForQuery reaches the client once the answer is in, and the
 * question's replies are swallowed. Lives on the backend's event loop.
 */
final class SettingsLearner {

    /** The leasing client ran a SET, RESET or DISCARD ALL since the lease began or the last question. */
    private boolean changed;
    /** The desired settings of the current lease (the client's own map: its keys are what it tracks). */
    private Map<String, String> leaseSettings = Map.of();
    /** The names the question in flight asks for, in its column order. */
    private List<String> asking = List.of();

    void leaseStarted(Map<String, String> desiredSettings) {
        leaseSettings = desiredSettings;
        changed = false;
    }

    /** A SET, RESET or DISCARD ALL of the leasing client completed. */
    void clientChangedSettings() {
        changed = true;
    }

    /** Whether {@link #question} may have one to ask (a SET, RESET or DISCARD ALL since the last question). */
    boolean mayAsk() {
        return changed;
    }

    /** The query to send now that the backend would be free, or null if there is nothing to learn. */
    String question() {
        if (!changed) {
            return null;
        }
        changed = false;
        asking = SessionSettings.unreportedAmong(leaseSettings.keySet());
        return asking.isEmpty() ? null : SessionSettings.currentValuesQuery(asking);
    }

    /** The answer's DataRow: records the values on the session and returns them for the client. */
    Map<String, String> answer(PgMessage row, ServerSessionState session) {
        List<String> values = MessageReader.dataRowTexts(row);
        Map<String, String> learned = new HashMap<>();
        for (int i = 0; i < asking.size() && i < values.size(); i++) {
            session.learned(asking.get(i), values.get(i));
            learned.put(asking.get(i), session.currentSettings().get(asking.get(i)));
        }
        return learned;
    }
}
