package com.perseusproxy.tools;

import com.perseusproxy.core.secrets.KmsCipher;
import com.perseusproxy.core.secrets.KmsSettings;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;
import com.perseusproxy.core.secrets.SecretEncryptionException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The flags that choose how {@code dest_pass_enc} is encrypted, shared by {@code encpass} and {@code tenant}:
 * Perseus's KMS flags ({@code -key_arn} with {@code -region -endpoint -access_key_id -secret_access_key}; blank
 * credentials mean the AWS SDK's default chain, e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role), or
 * {@code -key_file} for a local key. Exactly one of {@code -key_arn} and {@code -key_file}.
 */
final class PasswordCipherFlags {

    static final List<String> KMS_FLAGS = List.of("key_arn", "region", "endpoint", "access_key_id",
            "secret_access_key");
    static final List<String> ALL = List.of("key_arn", "region", "endpoint", "access_key_id", "secret_access_key",
            "key_file");

    /** Encrypts one password and says, for messages, what it encrypted with. */
    interface PasswordCipher extends AutoCloseable {
        String encrypt(String password) throws SecretEncryptionException;

        String describe();

        @Override
        void close();
    }

    private PasswordCipherFlags() {
    }

    static PasswordCipher open(GoFlags flags) throws UsageException, IOException {
        boolean kms = flags.get("key_arn").filter(s -> !s.isBlank()).isPresent();
        boolean local = flags.get("key_file").filter(s -> !s.isBlank()).isPresent();
        if (kms && local) {
            throw new UsageException("-key_arn and -key_file both given: encrypt with AWS KMS (-key_arn, as "
                    + "Perseus) or with a local key (-key_file), not both");
        }
        if (local) {
            for (String flag : KMS_FLAGS) {
                if (flags.has(flag)) {
                    throw new UsageException("-" + flag + " is a KMS flag, but -key_file selects a local key: "
                            + "drop -" + flag + ", or use -key_arn instead of -key_file");
                }
            }
            return local(Path.of(flags.get("key_file").orElseThrow()));
        }
        if (!kms) {
            throw new UsageException("missing -key_arn or -key_file: encrypt with AWS KMS (-key_arn ARN, with "
                    + "-region and optionally -endpoint and credentials) or with a local key (-key_file FILE, made "
                    + "with genkey)");
        }
        KmsSettings settings;
        try {
            settings = KmsSettings.of(flags.get("key_arn").orElseThrow(), flags.get("region").orElse(""),
                    flags.get("endpoint").orElse(""), flags.get("access_key_id").orElse(""),
                    flags.get("secret_access_key").orElse(""));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage().replace("AccessKeyId and SecretAccessKey",
                    "-access_key_id and -secret_access_key"));
        }
        return kms(settings);
    }

    static PasswordCipher local(Path keyFile) throws IOException {
        LocalKeyCipher cipher = new LocalKeyCipher(LocalKey.readAll(keyFile));
        return new PasswordCipher() {
            @Override
            public String encrypt(String password) {
                return cipher.encrypt(password);
            }

            @Override
            public String describe() {
                return "local key " + cipher.keyIds().get(0);
            }

            @Override
            public void close() {
            }
        };
    }

    static PasswordCipher kms(KmsSettings settings) throws UsageException {
        KmsCipher cipher;
        try {
            cipher = KmsCipher.connect(settings);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return new PasswordCipher() {
            @Override
            public String encrypt(String password) throws SecretEncryptionException {
                return cipher.encrypt(password);
            }

            @Override
            public String describe() {
                return "AWS KMS key " + settings.keyArn();
            }

            @Override
            public void close() {
                cipher.close();
            }
        };
    }
}
