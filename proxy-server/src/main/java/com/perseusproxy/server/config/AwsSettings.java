package com.perseusproxy.server.config;

import com.perseusproxy.core.secrets.KmsSettings;

/**
 * {@code AWSSettings}: the KMS key that decrypts Perseus's {@code dest_pass_enc}. Empty strings mean "not set";
 * empty credentials mean the AWS SDK's default credential chain. {@link #toString()} masks the secret key.
 */
public record AwsSettings(String accessKeyId, String secretAccessKey, String region, String endpoint,
                          String kmsKeyArn) {

    public boolean kmsConfigured() {
        return !kmsKeyArn.isBlank();
    }

    /**
     * The KMS client settings, with this product's call timeout and retry bounds.
     *
     * @throws IllegalArgumentException when the settings cannot work (e.g. only one of the two credentials set)
     */
    public KmsSettings toKmsSettings() {
        return KmsSettings.of(kmsKeyArn, region, endpoint, accessKeyId, secretAccessKey);
    }

    @Override
    public String toString() {
        return "AwsSettings[accessKeyId=" + accessKeyId + ", secretAccessKey="
                + (secretAccessKey.isEmpty() ? "" : "*****") + ", region=" + region + ", endpoint=" + endpoint
                + ", kmsKeyArn=" + kmsKeyArn + "]";
    }
}
