package com.perseusproxy.core.backend;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ServerFirstMessage;
import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.ClientMessages;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The proxy's side of a backend login: answers the server's authentication requests (SCRAM-SHA-256, md5, cleartext)
 * with the destination's credentials, then collects ParameterStatus and BackendKeyData until ReadyForQuery.
 *
 * <pre>
 * proxy                         server
 *   StartupMessage(user, database) -->
 *                               <-- AuthenticationSASL / MD5Password / CleartextPassword
 *   SASLInitialResponse / PasswordMessage -->
 *                               <-- AuthenticationSASLContinue   (SCRAM only)
 *   SASLResponse -->                                              (SCRAM only)
 *                               <-- AuthenticationSASLFinal, AuthenticationOk
 *                               <-- ParameterStatus*, BackendKeyData, ReadyForQuery
 * </pre>
 *
 * <p>It also settles the promise the pool waits on: with the connection once logged in, or with the reason the login
 * failed (the server refused, closed, or an error reached the connection).
 */
final class BackendLogin {

    private static final int AUTH_OK = 0;
    private static final int AUTH_CLEARTEXT = 3;
    private static final int AUTH_MD5 = 5;
    private static final int AUTH_SASL = 10;
    private static final int AUTH_SASL_CONTINUE = 11;
    private static final int AUTH_SASL_FINAL = 12;

    private final Destination destination;
    private final BackendCredentials credentials;
    private final Map<String, String> parameters;
    private final Promise<BackendConnection> result;
    private static final SecureRandom RANDOM = new SecureRandom();

    private ScramClient scram;
    private String scramNonce;
    private int processId;
    private int secretKey;

    BackendLogin(Destination destination, BackendCredentials credentials, Map<String, String> parameters,
                 Promise<BackendConnection> result) {
        this.destination = destination;
        this.credentials = credentials;
        this.parameters = parameters;
        this.result = result;
    }

    void start(Channel channel) {
        channel.writeAndFlush(ClientMessages.startup(channel.alloc(), Map.of(
                "user", credentials.user(),
                "database", destination.database(),
                "application_name", "perseus")));
    }

    /**
     * Handles one login-phase message.
     *
     * @return true once ReadyForQuery arrived (login complete)
     * @throws PgException when the server refuses the login or asks for something unsupported
     */
    boolean onMessage(Channel channel, PgMessage message) {
        switch (message.tag()) {
            case BackendTag.AUTHENTICATION -> onAuthentication(channel, message.payload());
            case BackendTag.PARAMETER_STATUS -> {
                String[] nameValue = MessageReader.parameterStatus(message);
                parameters.put(nameValue[0], nameValue[1]);
            }
            case 'K' -> {
                ByteBuf body = message.payload();
                processId = body.readInt();
                secretKey = body.readInt();
            }
            case BackendTag.ERROR_RESPONSE -> {
                Map<Character, String> fields = MessageReader.errorFields(message);
                throw new BackendLoginException(destination, fields.getOrDefault('C', "08006"),
                        fields.getOrDefault('M', "unknown error"));
            }
            case BackendTag.READY_FOR_QUERY -> {
                return true;
            }
            default -> {
                // NoticeResponse, NegotiateProtocolVersion: nothing to do at login.
            }
        }
        return false;
    }

    /** The login completed: hands the connection to the pool; false if the pool gave up waiting meanwhile. */
    boolean handOver(BackendConnection connection) {
        return result.trySuccess(connection);
    }

    /** The server closed the connection before the login completed. */
    void serverClosed() {
        result.tryFailure(new PgException("08006", "backend " + destination + " closed the connection during login"));
    }

    /** The login failed: the server's refusal as it is, anything else as 08006. */
    void failed(Throwable cause) {
        result.tryFailure(cause instanceof PgException ? cause : new PgException("08006",
                "backend login to " + destination + " failed: " + cause.getMessage(), true, cause));
    }

    int processId() {
        return processId;
    }

    int secretKey() {
        return secretKey;
    }

    private void onAuthentication(Channel channel, ByteBuf body) {
        int code = body.readInt();
        switch (code) {
            case AUTH_OK -> {
            }
            case AUTH_CLEARTEXT -> channel.writeAndFlush(ClientMessages.password(channel.alloc(), credentials.password()));
            case AUTH_MD5 -> {
                byte[] salt = new byte[4];
                body.readBytes(salt);
                channel.writeAndFlush(ClientMessages.password(channel.alloc(), md5Password(salt)));
            }
            case AUTH_SASL -> startScram(channel, body);
            case AUTH_SASL_CONTINUE -> continueScram(channel, body);
            case AUTH_SASL_FINAL -> finishScram(body);
            default -> throw new PgException("08004", "backend " + destination
                    + " asked for authentication method " + code + ", which the proxy does not support; configure"
                    + " scram-sha-256, md5 or password for this role in pg_hba.conf");
        }
    }

    private void startScram(Channel channel, ByteBuf body) {
        List<String> mechanisms = new ArrayList<>();
        for (String mechanism = MessageReader.readCString(body); !mechanism.isEmpty();
                mechanism = MessageReader.readCString(body)) {
            mechanisms.add(mechanism);
        }
        if (!mechanisms.contains("SCRAM-SHA-256")) {
            throw new PgException("08004", "backend " + destination + " offers SASL mechanisms " + mechanisms
                    + " but not SCRAM-SHA-256 without channel binding, which the proxy needs");
        }
        scramNonce = ScramFunctions.nonce(24, RANDOM);
        byte[] first = scramClient(ScramClient.builder().advertisedMechanisms(List.of("SCRAM-SHA-256"))
                .username("*").password(credentials.password().toCharArray())).clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
        channel.writeAndFlush(ClientMessages.saslInitialResponse(channel.alloc(), "SCRAM-SHA-256", first));
    }

    /** Same nonce and options every time, so a client built later continues the exchange the first one began. */
    private ScramClient scramClient(ScramClient.FinalBuildStage secret) {
        return secret.stringPreparation(ScramKeys.PREPARATION).nonceSupplier(() -> scramNonce).build();
    }

    /**
     * The salted password (PBKDF2) is derived off the event loop, or found in {@link ScramKeys}' cache; the
     * SASLResponse is written from the loop when the keys are ready. The server sends nothing until then, so the login
     * simply waits.
     */
    private void continueScram(Channel channel, ByteBuf body) {
        String serverFirst = body.toString(StandardCharsets.UTF_8);
        ServerFirstMessage parsed;
        byte[] salt;
        try {
            parsed = ServerFirstMessage.parseFrom(serverFirst, scramNonce);
            salt = Base64.getDecoder().decode(parsed.getSalt());
        } catch (Exception e) {
            throw new PgException("08004", "backend " + destination + " sent an invalid SCRAM message");
        }
        ScramKeys.of(credentials, salt, parsed.getIterationCount()).whenComplete((keys, failure) ->
                channel.eventLoop().execute(() -> {
                    if (!channel.isActive()) {
                        return;
                    }
                    try {
                        if (failure != null) {
                            throw new PgException("08004", "backend login to " + destination
                                    + " could not derive its SCRAM keys now (too many logins at once); retry");
                        }
                        sendClientFinal(channel, keys, serverFirst);
                    } catch (RuntimeException e) {
                        channel.pipeline().fireExceptionCaught(e);
                    }
                }));
    }

    private void sendClientFinal(Channel channel, ScramKeys.Keys keys, String serverFirst) {
        // username("*"): PostgreSQL takes the user from the startup packet.
        scram = scramClient(ScramClient.builder().advertisedMechanisms(List.of("SCRAM-SHA-256")).username("*")
                .clientAndServerKey(keys.clientKey(), keys.serverKey()));
        scram.clientFirstMessage();
        try {
            scram.serverFirstMessage(serverFirst);
        } catch (Exception e) {
            throw new PgException("08004", "backend " + destination + " sent an invalid SCRAM message");
        }
        byte[] last = scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8);
        channel.writeAndFlush(ClientMessages.saslResponse(channel.alloc(), last));
    }

    private void finishScram(ByteBuf body) {
        try {
            scram.serverFinalMessage(body.toString(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new PgException("08004", "backend " + destination
                    + " failed SCRAM server verification; is the proxy talking to the right server?");
        }
    }

    /** md5 of (md5 of password+user, as hex) + salt, prefixed "md5": PostgreSQL's MD5Password answer. */
    private String md5Password(byte[] salt) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            String inner = HexFormat.of().formatHex(md5.digest(
                    (credentials.password() + credentials.user()).getBytes(StandardCharsets.UTF_8)));
            md5.update(inner.getBytes(StandardCharsets.US_ASCII));
            md5.update(salt);
            return "md5" + HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
