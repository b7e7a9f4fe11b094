package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.statements.BackendStatements;
import io.netty.buffer.ByteBuf;

/**
 * What the CommandComplete tags of a client's own statements change in one {@link BackendConnection}'s bookkeeping.
 * A few tags matter: SET, RESET and DISCARD ALL may have changed the tenant's search_path or tracked settings (so
 * the next lease for the same tenant re-sends them, and the {@link SettingsLearner} asks before this lease ends);
 * DISCARD ALL and DEALLOCATE ALL drop the session's prepared statements. Tags cannot show most session state, so
 * nothing here keeps tenants apart: another tenant always gets the full {@link SessionReset}.
 *
 * <p>Every CommandComplete passes {@link #mayMatter} first, a byte test that makes no String of the common tags
 * (SELECT, INSERT, ...). Runs on the connection's event loop.
 */
final class CommandTagEffects {

    private final SettingsLearner learner;
    private final BackendStatements statements;
    private final ReplyQueue replies;
    /** The last tenant may have changed its own search_path or settings (a SET tag): re-send them next lease. */
    private boolean tenantStateUncertain;

    CommandTagEffects(SettingsLearner learner, BackendStatements statements, ReplyQueue replies) {
        this.learner = learner;
        this.statements = statements;
        this.replies = replies;
    }

    /**
     * Whether a CommandComplete may be one of the tags that matter: only SET, RESET, DISCARD ALL and DEALLOCATE ALL
     * do, and only they start with "SET\0", R or D among the tags this test lets through.
     */
    static boolean mayMatter(PgMessage commandComplete) {
        return mayMatter(commandComplete.frame(), commandComplete.payloadIndex(), commandComplete.payloadLength());
    }

    /** {@link #mayMatter(PgMessage)} of the CommandComplete whose payload is at {@code at} in {@code frames}. */
    static boolean mayMatter(ByteBuf frames, int at, int payloadLength) {
        byte first = frames.getByte(at);
        return first == 'R' || first == 'D' || (first == 'S' && payloadLength == 4
                && frames.getByte(at + 1) == 'E' && frames.getByte(at + 2) == 'T');
    }

    /** A CommandComplete that passed {@link #mayMatter}; {@code leased}: a client's lease is running. */
    void completed(PgMessage commandComplete, boolean leased) {
        String commandTag = MessageReader.commandTag(commandComplete);
        if (SessionReset.mayChangeSearchPathOrSettings(commandTag)) {
            tenantStateUncertain = true;
            if (leased) {
                learner.clientChangedSettings();
            }
        }
        if (SessionSettings.dropsPreparedStatements(commandTag)) {
            // Gone, except those that messages sent after this statement are re-creating.
            statements.clear();
            replies.pendingPreparations().forEach(statements::restore);
        }
    }

    /** Whether the tenant served last may have changed its own search_path or settings (see {@link LeasePlan}). */
    boolean tenantStateUncertain() {
        return tenantStateUncertain;
    }

    /** A new lease has been planned: what the last one changed is taken care of. */
    void leasePlanned() {
        tenantStateUncertain = false;
    }
}
