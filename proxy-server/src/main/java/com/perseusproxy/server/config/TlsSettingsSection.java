package com.perseusproxy.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.tls.ClientTlsMode;
import com.perseusproxy.core.tls.ServerTlsMode;
import com.perseusproxy.core.tls.TlsContexts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code ClientTLSSettings}, {@code ServerTLSSettings} and the {@code ServerTLSSettings} inside
 * {@code OverrideSettings} entries. Only the syntax and the combinations are checked here; the files are read when
 * the service starts or reloads ({@link ClientTlsSettings#load()}, {@link ServerTlsSettings#load(String)}).
 */
final class TlsSettingsSection {

    static final List<String> CLIENT_KEYS = List.of("SSLMode", "CertFile", "KeyFile", "CAFile");
    static final List<String> SERVER_KEYS = List.of("SSLMode", "RootCertFile");
    static final String SERVER_SECTION = "ServerTLSSettings";

    private TlsSettingsSection() {
    }

    /** The keys an OverrideSettings entry may have: the pool keys and its own ServerTLSSettings. */
    static List<String> overrideEntryKeys() {
        List<String> keys = new ArrayList<>(PoolSettingsSection.KEYS);
        keys.add(SERVER_SECTION);
        return keys;
    }

    static TlsSettings read(JsonSection top) throws ConfigException {
        ServerTlsSettings server = server(top.section(SERVER_SECTION, SERVER_KEYS), ServerTlsSettings.DEFAULT);
        Map<String, ServerTlsSettings> overrides = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : top.entries("OverrideSettings").entrySet()) {
            JsonSection section = new JsonSection("OverrideSettings[\"" + entry.getKey() + "\"]", entry.getValue(),
                    Map.of(), overrideEntryKeys());
            JsonSection tls = section.section(SERVER_SECTION, SERVER_KEYS);
            if (!tls.isEmpty()) {
                overrides.put(entry.getKey(), server(tls, server));
            }
        }
        return new TlsSettings(client(top.section("ClientTLSSettings", CLIENT_KEYS)), server, overrides);
    }

    private static ClientTlsSettings client(JsonSection s) throws ConfigException {
        String modeText = s.string("SSLMode", "disable");
        ClientTlsMode mode = ClientTlsMode.parse(modeText);
        if (mode == null) {
            throw new ConfigException(s.join("SSLMode") + " must be one of " + names(ClientTlsMode.values())
                    + ", got \"" + modeText + "\"");
        }
        Path cert = path(s, "CertFile");
        Path key = path(s, "KeyFile");
        Path ca = path(s, "CAFile");
        if (mode.offersTls() && (cert == null || key == null)) {
            throw new ConfigException(s.join("SSLMode") + " " + mode.configName() + " needs " + s.join("CertFile")
                    + " and " + s.join("KeyFile") + " (PEM files, as PostgreSQL's server.crt and server.key)");
        }
        return new ClientTlsSettings(mode, cert, key, ca);
    }

    private static ServerTlsSettings server(JsonSection s, ServerTlsSettings base) throws ConfigException {
        String modeText = s.string("SSLMode", base.mode().configName());
        ServerTlsMode mode = ServerTlsMode.parse(modeText);
        if (mode == null) {
            throw new ConfigException(s.join("SSLMode") + " must be one of " + names(ServerTlsMode.values())
                    + ", got \"" + modeText + "\"");
        }
        String roots = s.string("RootCertFile", base.rootCertFile()).strip();
        if (mode.verifiesChain() && roots.isEmpty()) {
            throw new ConfigException(s.join("SSLMode") + " " + mode.configName() + " needs "
                    + s.join("RootCertFile") + ": a PEM file of the CA certificates the server's certificate must"
                    + " lead to (e.g. the RDS bundle), or \"" + TlsContexts.SYSTEM_ROOTS + "\" for the JVM's"
                    + " trusted roots");
        }
        return new ServerTlsSettings(mode, roots);
    }

    private static Path path(JsonSection s, String key) throws ConfigException {
        String value = s.string(key, "").strip();
        return value.isEmpty() ? null : Path.of(value);
    }

    private static String names(Enum<?>[] values) {
        return String.join(", ", Arrays.stream(values)
                .map(v -> v instanceof ClientTlsMode c ? c.configName() : ((ServerTlsMode) v).configName())
                .toList());
    }
}
