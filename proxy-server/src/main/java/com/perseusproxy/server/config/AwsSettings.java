package com.perseusproxy.server.config;

/**
 * {@code AWSSettings}: the KMS key that decrypts Perseus's {@code dest_pass_enc}. Empty strings mean "not set";
 * empty credentials mean the AWS SDK's default credential chain. {@link #toString()} masks the secret key.
 */
public record AwsSettings(String accessKeyId, String secretAccessKey, String region, String endpoint,
                          String kmsKeyArn) {

    public boolean kmsConfigured() {
        return !kmsKeyArn.isBlank();
    }

    @Override
    public String toString() {
        return "AwsSettings[accessKeyId=" + accessKeyId + ", secretAccessKey="
                + (secretAccessKey.isEmpty() ? "" : "*****") + ", region=" + region + ", endpoint=" + endpoint
                + ", kmsKeyArn=" + kmsKeyArn + "]";
    }
}
