package com.perseusproxy.core.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ServerFirstMessage;
import com.perseusproxy.core.protocol.PgException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

/**
 * The server side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677; PostgreSQL's flavour: the user name in the
 * messages is ignored, the startup packet's counts). The message formats and the key arithmetic are the ongres
 * scram library's ({@link ServerFirstMessage}, {@link ScramFunctions}); this class only
 * sequences them and checks channel binding. The proof is checked against every verifier of the exchange (those that
 * share the salt), with no early exit, so the time taken does not depend on which one matched. HMACs only: cheap
 * enough for the event loop. Any failure is the same 28P01 as a wrong cleartext password.
 */
public final class ScramExchange {

    public static final String MECHANISM = "SCRAM-SHA-256";
    public static final String MECHANISM_PLUS = "SCRAM-SHA-256-PLUS";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final List<ScramVerifier> verifiers;
    private final String user;
    /** tls-server-end-point data of the proxy's certificate, or null without TLS (then no -PLUS is offered). */
    private final byte[] channelBinding;
    private String gs2Header;
    private boolean bound;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;

    public ScramExchange(List<ScramVerifier> verifiers, String user, byte[] channelBinding) {
        this.verifiers = List.copyOf(verifiers);
        this.user = user;
        this.channelBinding = channelBinding;
    }

    /** The mechanisms to offer in AuthenticationSASL, preferred first. */
    public List<String> mechanisms() {
        return channelBinding == null ? List.of(MECHANISM) : List.of(MECHANISM_PLUS, MECHANISM);
    }

    /**
     * The SASLInitialResponse: the chosen mechanism and the client-first-message.
     *
     * @return the server-first-message (for AuthenticationSASLContinue)
     */
    public String clientFirst(String mechanism, String clientFirst) {
        if (!mechanisms().contains(mechanism)) {
            throw failed("the client chose SASL mechanism '" + mechanism + "', which was not offered");
        }
        // Parsed here rather than with ClientFirstMessage.parseFrom, which refuses the empty user name ("n=") that
        // libpq sends: PostgreSQL takes the user from the startup packet, not from SCRAM.
        int firstComma = clientFirst.indexOf(',');
        int secondComma = firstComma < 0 ? -1 : clientFirst.indexOf(',', firstComma + 1);
        if (firstComma < 1 || secondComma < 0) {
            throw new PgException("08P01", "malformed SCRAM client-first-message");
        }
        String flagPart = clientFirst.substring(0, firstComma);
        String clientNonce = null;
        for (String field : clientFirst.substring(secondComma + 1).split(",")) {
            if (field.startsWith("r=") && clientNonce == null) {
                clientNonce = field.substring(2);
            }
        }
        if (clientNonce == null || clientNonce.isEmpty() || !clientFirst.substring(secondComma + 1).startsWith("n=")) {
            throw new PgException("08P01", "malformed SCRAM client-first-message");
        }
        char flag = flagPart.charAt(0);
        bound = mechanism.equals(MECHANISM_PLUS);
        if (bound && !flagPart.equals("p=tls-server-end-point")) {
            throw failed("SCRAM-SHA-256-PLUS needs tls-server-end-point channel binding");
        }
        if (!bound && flag == 'p') {
            throw failed("channel binding data sent with plain SCRAM-SHA-256");
        }
        if (!bound && flag == 'y' && channelBinding != null) {
            // The client could bind, and so could we: someone in between removed -PLUS from the offer.
            throw failed("the client says the server offered no channel binding, but it did");
        }
        if (!bound && flag != 'n' && flag != 'y') {
            throw new PgException("08P01", "malformed SCRAM client-first-message");
        }
        int headerEnd = clientFirst.indexOf(',', clientFirst.indexOf(',') + 1) + 1;
        gs2Header = clientFirst.substring(0, headerEnd);
        clientFirstBare = clientFirst.substring(headerEnd);
        String serverNonce = Base64.getEncoder().encodeToString(ScramFunctions.salt(18, RANDOM));
        ScramVerifier v = verifiers.get(0);
        ServerFirstMessage message = new ServerFirstMessage(clientNonce, serverNonce,
                Base64.getEncoder().encodeToString(v.salt()), v.iterations());
        nonce = message.getNonce();
        serverFirst = message.toString();
        return serverFirst;
    }

    /**
     * The SASLResponse: the client-final-message.
     *
     * @return the verifier the proof matched and the server-final-message (for AuthenticationSASLFinal)
     * @throws PgException 28P01 if the proof matches none
     */
    public Proved clientFinal(String clientFinal) {
        int proofAt = clientFinal.lastIndexOf(",p=");
        if (serverFirst == null || proofAt < 0 || !clientFinal.startsWith("c=")) {
            throw new PgException("08P01", "malformed SCRAM client-final-message");
        }
        String withoutProof = clientFinal.substring(0, proofAt);
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(clientFinal.substring(proofAt + 3));
        } catch (IllegalArgumentException e) {
            throw new PgException("08P01", "malformed SCRAM proof");
        }
        String[] fields = withoutProof.split(",");
        byte[] header = gs2Header.getBytes(StandardCharsets.UTF_8);
        byte[] cbind = bound ? concat(header, channelBinding) : header;
        String expectedC = "c=" + Base64.getEncoder().encodeToString(cbind);
        if (fields.length < 2 || !MessageDigest.isEqual(fields[0].getBytes(StandardCharsets.UTF_8),
                expectedC.getBytes(StandardCharsets.UTF_8))) {
            throw failed("channel binding did not match");
        }
        if (!fields[1].equals("r=" + nonce)) {
            throw failed("nonce did not match");
        }
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        ScramVerifier matched = null;
        for (ScramVerifier v : verifiers) {
            // No early exit: see the class comment.
            if (ScramFunctions.verifyClientProof(ScramVerifier.MECHANISM, proof, v.storedKey(), authMessage)
                    && matched == null) {
                matched = v;
            }
        }
        if (matched == null) {
            throw AuthErrors.passwordFailed(user);
        }
        byte[] signature = ScramFunctions.serverSignature(ScramVerifier.MECHANISM, matched.serverKey(), authMessage);
        return new Proved(matched, "v=" + Base64.getEncoder().encodeToString(signature));
    }

    /** A proof that matched. */
    public record Proved(ScramVerifier verifier, String serverFinal) {
    }

    /** The reason goes to the log only; the client gets the same message as for a wrong password. */
    private PgException failed(String reason) {
        org.slf4j.LoggerFactory.getLogger(ScramExchange.class).info("SCRAM login of \"{}\" refused: {}",
                user.replaceAll("\\p{Cntrl}", "?"), reason);
        return AuthErrors.passwordFailed(user);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
