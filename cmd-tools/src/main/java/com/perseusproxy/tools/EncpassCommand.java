package com.perseusproxy.tools;

import com.perseusproxy.core.secrets.SecretEncryptionException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code encpass} prints the ciphertext for {@code dest_pass_enc} and nothing else on standard output. With Perseus's
 * flags ({@code -access_key_id -secret_access_key -region -endpoint -key_arn -passwd}) it is base64 of the AWS KMS
 * CiphertextBlob, exactly what Perseus's encpass prints; with {@code -key_file} a {@code local:v1:...} ciphertext.
 */
final class EncpassCommand {

    private EncpassCommand() {
    }

    static int run(String[] args, Io io) throws UsageException, IOException, ToolFailure {
        List<String> known = new ArrayList<>(PasswordCipherFlags.ALL);
        known.add("passwd");
        GoFlags flags = GoFlags.parse(args, 1, known);
        if (flags.helpRequested()) {
            io.err().print(PerseusTools.usage());
            return PerseusTools.OK;
        }
        try (PasswordCipherFlags.PasswordCipher cipher = PasswordCipherFlags.open(flags)) {
            String password = io.passwords().read(flags.get("passwd"), "Password", "-passwd", false);
            io.out().println(cipher.encrypt(password));
            return PerseusTools.OK;
        } catch (SecretEncryptionException e) {
            throw new ToolFailure(e.getMessage());
        }
    }
}
