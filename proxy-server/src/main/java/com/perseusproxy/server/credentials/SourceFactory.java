package com.perseusproxy.server.credentials;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.server.config.AwsSettings;
import com.perseusproxy.server.config.CredentialSourceSettings;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/**
 * Turns the config's {@code CredentialSources} into providers. AWS clients are made only when an entry needs them
 * (building one contacts nobody) and shared by the entries; {@link #close()} closes them.
 */
public final class SourceFactory implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SourceFactory.class);

    private final AwsSettings aws;
    private SecretsManagerClient secretsManager;

    public SourceFactory(AwsSettings aws) {
        this.aws = aws;
    }

    /**
     * @throws IllegalArgumentException when an entry cannot work (no region for AWS)
     */
    public Map<String, CredentialProvider> providers(Map<String, CredentialSourceSettings> settings) {
        Map<String, CredentialProvider> providers = new LinkedHashMap<>();
        settings.forEach((name, s) -> {
            providers.put(name, provider(name, s));
            log.info("CredentialSources[\"{}\"]: {}", name, s);
        });
        return providers;
    }

    private CredentialProvider provider(String name, CredentialSourceSettings s) {
        return switch (s.kind()) {
            case COMMAND -> new CommandProvider(new CredentialCommand(s.command(), s.timeout()));
            case SECRETS_MANAGER -> new SecretsManagerProvider(secretsManager(), s.secretId(), s.versionStage(),
                    s.refresh());
            case RDS_IAM -> {
                Destination backend = CredentialSources.keyOf(name);
                Region region = AwsClients.region(s.region(), aws, "CredentialSources[\"" + name + "\"]");
                // ProxyConfig.requireBackendTlsForRdsIam has refused this source unless its backend TLS encrypts.
                yield new RdsIamProvider(RdsIamProvider.sdkSigner(region, AwsClients.credentials(aws)),
                        backend.host(), backend.port(), s.user(), region, Clock.systemUTC());
            }
        };
    }

    private synchronized SecretsManagerClient secretsManager() {
        if (secretsManager == null) {
            secretsManager = AwsClients.secretsManager(aws);
        }
        return secretsManager;
    }

    @Override
    public synchronized void close() {
        if (secretsManager != null) {
            secretsManager.close();
        }
    }
}
