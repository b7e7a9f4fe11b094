package com.perseusproxy.core.secrets;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DependencyTimeoutException;
import software.amazon.awssdk.services.kms.model.DisabledException;
import software.amazon.awssdk.services.kms.model.IncorrectKeyException;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.InvalidKeyUsageException;
import software.amazon.awssdk.services.kms.model.KeyUnavailableException;
import software.amazon.awssdk.services.kms.model.KmsInternalException;
import software.amazon.awssdk.services.kms.model.KmsInvalidStateException;
import software.amazon.awssdk.services.kms.model.NotFoundException;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;

/**
 * Perseus's use of AWS KMS, in both directions: {@code dest_pass_enc} is the standard base64 of the
 * {@code CiphertextBlob} that KMS Encrypt returns for the UTF-8 password, and it is decrypted with KeyId = the
 * configured key ARN. Failures become messages that say what happened and what to do, never containing the
 * plaintext. Calls block (with the timeout and retries of {@link KmsSettings}): never call this on an event loop.
 */
public final class KmsCipher implements AutoCloseable {

    /** Error codes that mean "these credentials may not use this key" (KMS reports them without a model class). */
    private static final Set<String> ACCESS_ERRORS = Set.of("AccessDeniedException", "UnrecognizedClientException",
            "InvalidSignatureException", "IncompleteSignature", "ExpiredTokenException", "InvalidClientTokenId",
            "MissingAuthenticationToken", "SignatureDoesNotMatch");

    private final KmsSettings settings;
    private final KmsClient client;

    public KmsCipher(KmsSettings settings, KmsClient client) {
        this.settings = settings;
        this.client = client;
    }

    /** A cipher with its own client, closed by {@link #close()}. */
    public static KmsCipher connect(KmsSettings settings) {
        return new KmsCipher(settings, settings.newClient());
    }

    public KmsSettings settings() {
        return settings;
    }

    /** @return base64 of the CiphertextBlob, exactly what Perseus stores in {@code dest_pass_enc} */
    public String encrypt(String plaintext) throws SecretEncryptionException {
        try {
            SdkBytes blob = client.encrypt(r -> r.keyId(settings.keyArn())
                    .plaintext(SdkBytes.fromString(plaintext, StandardCharsets.UTF_8))).ciphertextBlob();
            return Base64.getEncoder().encodeToString(blob.asByteArray());
        } catch (SdkException e) {
            throw new SecretEncryptionException("AWS KMS Encrypt failed: " + explain(e, "kms:Encrypt"), e);
        }
    }

    /** @param ciphertext base64 of a CiphertextBlob (surrounding white space is ignored) */
    public String decrypt(String ciphertext) throws SecretDecryptionException {
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(ciphertext.strip());
        } catch (IllegalArgumentException e) {
            throw new SecretDecryptionException("dest_pass_enc is not valid base64, so it is not an AWS KMS "
                    + "ciphertext: re-encrypt the password with 'perseus-tools encpass -key_arn ...'");
        }
        try {
            SdkBytes plaintext = client.decrypt(r -> r.keyId(settings.keyArn())
                    .ciphertextBlob(SdkBytes.fromByteArrayUnsafe(blob))).plaintext();
            return plaintext.asUtf8String();
        } catch (SdkException e) {
            // The cause is dropped: an SDK exception can carry the request, and nothing here needs its stack.
            throw new SecretDecryptionException("AWS KMS Decrypt failed: " + explain(e, "kms:Decrypt"));
        }
    }

    /** What went wrong, in words an operator can act on. Never includes request or response bodies. */
    String explain(SdkException e, String permission) {
        String key = "KMS key " + settings.keyArn();
        if (e instanceof InvalidCiphertextException) {
            return "KMS rejects the ciphertext as invalid (InvalidCiphertextException): it is damaged, or it was not "
                    + "made by " + key + "; re-encrypt the password with 'perseus-tools encpass -key_arn "
                    + settings.keyArn() + "'";
        }
        if (e instanceof IncorrectKeyException) {
            return "the ciphertext was made with another KMS key than " + settings.keyArn() + " (IncorrectKeyException):"
                    + " set AWSSettings.KMSKeyARN to the key that encrypted it, or re-encrypt the password";
        }
        if (e instanceof NotFoundException) {
            return key + " does not exist in " + settings.describeTarget() + " (NotFoundException): check "
                    + "AWSSettings.KMSKeyARN and AWSSettings.Region";
        }
        if (e instanceof DisabledException) {
            return key + " is disabled (DisabledException): enable it in AWS KMS";
        }
        if (e instanceof KmsInvalidStateException) {
            return key + " is in a state that does not allow this (KMSInvalidStateException, e.g. pending "
                    + "deletion): cancel the deletion or use another key";
        }
        if (e instanceof InvalidKeyUsageException) {
            return key + " cannot " + permission.substring(4).toLowerCase(Locale.ROOT) + " (InvalidKeyUsageException):"
                    + " use a symmetric ENCRYPT_DECRYPT key";
        }
        if (e instanceof KeyUnavailableException || e instanceof DependencyTimeoutException
                || e instanceof KmsInternalException) {
            return "AWS KMS is unavailable right now (" + e.getClass().getSimpleName() + "); it is retried later";
        }
        if (e instanceof AwsServiceException service) {
            AwsErrorDetails details = service.awsErrorDetails();
            String code = details == null ? "" : String.valueOf(details.errorCode());
            String message = details == null ? "" : String.valueOf(details.errorMessage());
            if (ACCESS_ERRORS.contains(code) || service.statusCode() == 403) {
                return "AWS KMS refuses the credentials (" + code + ": " + oneLine(message) + "): check "
                        + "AWSSettings.AccessKeyId/SecretAccessKey or the default credential chain, and grant "
                        + permission + " on " + settings.keyArn() + " to that identity";
            }
            if (code.contains("Throttling") || service.statusCode() == 429) {
                return "AWS KMS throttles the requests (" + code + "); it is retried later";
            }
            return "AWS KMS answered HTTP " + service.statusCode() + " " + code + ": " + oneLine(message);
        }
        if (e instanceof ApiCallTimeoutException) {
            return "no answer from AWS KMS at " + settings.describeTarget() + " within " + settings.callTimeout()
                    .toSeconds() + " s (" + settings.maxAttempts() + " attempts); check the network path to KMS";
        }
        if (e instanceof SdkClientException) {
            return "cannot reach AWS KMS at " + settings.describeTarget() + " (" + oneLine(e.getMessage())
                    + "); check AWSSettings.Endpoint/Region, the network path, and the AWS credentials";
        }
        return e.getClass().getSimpleName() + ": " + oneLine(e.getMessage());
    }

    /** First line, bounded: SDK messages can be long lists of every credential provider tried. */
    private static String oneLine(String text) {
        if (text == null) {
            return "";
        }
        String line = text.strip().lines().findFirst().orElse("");
        return line.length() > 400 ? line.substring(0, 400) + "..." : line;
    }

    @Override
    public void close() {
        client.close();
    }

    @Override
    public String toString() {
        return "KmsCipher[" + settings + "]";
    }
}
