package com.perseusproxy.core.session;

import com.perseusproxy.core.auth.ScramExchange;
import com.perseusproxy.core.auth.ScramVerifier;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A client's SCRAM login in protocol messages: AuthenticationSASL, then SASLInitialResponse → SASLContinue, then
 * SASLResponse → SASLFinal. The exchange itself is {@link ScramExchange}; this only frames it, and finds the
 * channel-binding data (tls-server-end-point: a hash of the proxy's certificate) when the client came over TLS.
 */
public final class SaslSteps {

    private final ScramExchange exchange;
    private boolean initial = true;

    private SaslSteps(ScramExchange exchange) {
        this.exchange = exchange;
    }

    /** Writes AuthenticationSASL and returns the steps that follow. */
    public static SaslSteps start(Channel channel, List<ScramVerifier> verifiers, String user) {
        SaslSteps steps = new SaslSteps(new ScramExchange(verifiers, user, channelBinding(channel)));
        channel.writeAndFlush(ServerMessages.authenticationSasl(channel.alloc(), steps.exchange.mechanisms()));
        return steps;
    }

    /**
     * One SASL message from the client (type 'p').
     *
     * @return the verifier the client proved (SASLFinal written), or null when the exchange goes on
     * @throws PgException 28P01 for a wrong password, 08P01 for a malformed message
     */
    public ScramVerifier step(Channel channel, PgMessage message) {
        ByteBuf payload = message.payload();
        if (initial) {
            initial = false;
            String mechanism = MessageReader.readCString(payload);
            int length = payload.readableBytes() >= 4 ? payload.readInt() : -1;
            if (length < 0 || length > payload.readableBytes()) {
                throw new PgException("08P01", "malformed SASLInitialResponse");
            }
            String first = payload.readCharSequence(length, StandardCharsets.UTF_8).toString();
            String serverFirst = exchange.clientFirst(mechanism, first);
            channel.writeAndFlush(ServerMessages.authenticationSaslData(channel.alloc(), 11, serverFirst));
            return null;
        }
        ScramExchange.Proved proved = exchange.clientFinal(payload.toString(StandardCharsets.UTF_8));
        channel.write(ServerMessages.authenticationSaslData(channel.alloc(), 12, proved.serverFinal()));
        return proved.verifier();
    }

    private static byte[] channelBinding(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            Certificate[] local = ssl.engine().getSession().getLocalCertificates();
            if (local == null || local.length == 0 || !(local[0] instanceof X509Certificate cert)) {
                return null;
            }
            return com.ongres.scram.common.util.TlsServerEndpoint.getChannelBindingData(cert);
        } catch (java.security.cert.CertificateEncodingException | RuntimeException e) {
            return null; // no -PLUS then; plain SCRAM still works
        }
    }
}
