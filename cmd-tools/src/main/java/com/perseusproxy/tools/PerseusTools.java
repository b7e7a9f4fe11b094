package com.perseusproxy.tools;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The operator's tools for filling in {@code perseus_auth}:
 * <pre>
 *   genhash [-password P]              easy-scrypt hash for source_pass_hashed (as Perseus's genhash)
 *   genkey -out FILE                   a new local AES key file (mode 0600)
 *   encpass -key_file FILE [-passwd P] local:v1:... ciphertext for dest_pass_enc
 * </pre>
 * Passwords may come from standard input (one line) instead of a flag, which keeps them out of shell history and
 * the process list. Results go alone to standard output so scripts can capture them; messages go to standard error.
 */
public final class PerseusTools {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private static final List<String> KMS_FLAGS = List.of("access_key_id", "secret_access_key", "region", "endpoint",
            "key_arn");

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err));
    }

    /** @return the process exit status: 0 done, 1 failed, 2 wrong usage */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.print(usage());
            return USAGE;
        }
        try {
            return switch (args[0]) {
                case "genhash" -> genhash(GoFlags.parse(args, 1, List.of("password")), in, out, err);
                case "genkey" -> genkey(GoFlags.parse(args, 1, List.of("out")), out, err);
                case "encpass" -> encpass(GoFlags.parse(args, 1, encpassFlags()), in, out, err);
                case "help", "-h", "-help", "--help" -> {
                    out.print(usage());
                    yield OK;
                }
                default -> throw new UsageException("unknown command '" + args[0] + "'");
            };
        } catch (UsageException e) {
            err.println("perseus-tools: " + e.getMessage());
            err.print(usage());
            return USAGE;
        } catch (IOException e) {
            err.println("perseus-tools " + args[0] + ": " + e.getMessage());
            return FAILED;
        }
    }

    private static int genhash(GoFlags flags, InputStream in, PrintStream out, PrintStream err)
            throws UsageException, IOException {
        if (flags.helpRequested()) {
            err.print(usage());
            return OK;
        }
        String password = passwordFrom(flags.get("password"), in, "-password");
        out.println(EasyScrypt.hash(password));
        return OK;
    }

    private static int genkey(GoFlags flags, PrintStream out, PrintStream err) throws UsageException, IOException {
        if (flags.helpRequested()) {
            err.print(usage());
            return OK;
        }
        Path file = Path.of(flags.require("out", "name the key file to create, e.g. -out /etc/perseus/local.key"));
        LocalKey key = LocalKey.writeNewKey(file);
        out.println("wrote local key " + key.keyId() + " to " + file + " (mode 0600); set LocalKeySettings.KeyFile "
                + "to this path and keep a backup: passwords encrypted with it cannot be recovered without it");
        return OK;
    }

    private static int encpass(GoFlags flags, InputStream in, PrintStream out, PrintStream err)
            throws UsageException, IOException {
        if (flags.helpRequested()) {
            err.print(usage());
            return OK;
        }
        for (String kms : KMS_FLAGS) {
            if (flags.get(kms).isPresent()) {
                throw new UsageException("-" + kms + ": KMS encryption is not available in this version of "
                        + "perseus-tools; encrypt with a local key instead (-key_file, made with genkey)");
            }
        }
        Path keyFile = Path.of(flags.require("key_file", "name the local key file made with 'genkey'"));
        LocalKeyCipher cipher = new LocalKeyCipher(LocalKey.readAll(keyFile));
        String password = passwordFrom(flags.get("passwd"), in, "-passwd");
        out.println(cipher.encrypt(password));
        return OK;
    }

    private static List<String> encpassFlags() {
        return Stream.concat(List.of("key_file", "passwd").stream(), KMS_FLAGS.stream()).toList();
    }

    /** The flag's value, else one line of standard input (typed without echo when it is a terminal). */
    private static String passwordFrom(Optional<String> flag, InputStream in, String flagName)
            throws UsageException, IOException {
        String password;
        if (flag.isPresent()) {
            password = flag.get();
        } else {
            Console console = System.console();
            if (in == System.in && console != null) {
                char[] typed = console.readPassword("Password: ");
                password = typed == null ? null : new String(typed);
            } else {
                password = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
            }
        }
        if (password == null || password.isEmpty()) {
            throw new UsageException("no password given: pass " + flagName + " or write it as one line on "
                    + "standard input");
        }
        return password;
    }

    static String usage() {
        return """
                usage: perseus-tools COMMAND [flags]

                  genhash [-password P]
                        print the easy-scrypt hash of P for perseus_auth.source_pass_hashed
                        (without -password, reads one line from standard input)
                  genkey -out FILE
                        create a new local key file (mode 0600; never overwrites) for LocalKeySettings.KeyFile
                  encpass -key_file FILE [-passwd P]
                        print P encrypted with the local key as local:v1:... for perseus_auth.dest_pass_enc
                        (without -passwd, reads one line from standard input)

                Flags take one or two dashes: -out FILE, -out=FILE, --out FILE.
                """;
    }
}
