package com.perseusproxy.tools;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Map;

/**
 * {@code perseus-tools}: the operator's tools for filling in {@code perseus_auth} (see {@link #usage()}). Perseus's
 * own commands ({@code genhash -password}, {@code encpass -key_arn ...}) work with the same flags and print the same
 * formats, so existing scripts keep working. Results go alone to standard output so scripts can capture them;
 * messages go to standard error. Exit status: 0 done, 1 failed (or: password does not match), 2 wrong usage.
 */
public final class PerseusTools {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private PerseusTools() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err, System.getenv()));
    }

    /** @return the process exit status: 0 done, 1 failed, 2 wrong usage */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        return run(args, in, out, err, Map.of());
    }

    /** @param env the environment ({@code tenant} reads PERSEUS_AUTHDBSETTINGS_AUTHDBDSN from it) */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length == 0) {
            err.print(usage());
            return USAGE;
        }
        Io io = new Io(PasswordInput.from(in), out, err, env);
        try {
            return switch (args[0]) {
                case "genhash" -> GenhashCommand.run(args, io);
                case "genkey" -> GenkeyCommand.run(args, io);
                case "encpass" -> EncpassCommand.run(args, io);
                case "tenant" -> TenantCommand.run(args, io);
                case "rotate" -> RotateCommand.run(args, io);
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
        } catch (IOException | ToolFailure e) {
            err.println("perseus-tools " + args[0] + ": " + e.getMessage());
            return FAILED;
        }
    }

    static String usage() {
        return """
                usage: perseus-tools COMMAND [flags]

                  genhash [-password P]
                        print the easy-scrypt hash of P for perseus_auth.source_pass_hashed
                  genhash -scram [-salt_of VERIFIER] [-password P]
                        print a SCRAM-SHA-256 verifier of P (PostgreSQL's format): clients then log in with SCRAM and
                        the password never crosses the wire; -salt_of reuses a verifier's salt, so both verifiers work
                        side by side while the password is rotated
                  genhash -verify -hash H [-password P]
                        check P against a stored hash: exit 0 if it matches, 1 if not
                  genkey -out FILE
                        create a new local key file (mode 0600; never overwrites) for LocalKeySettings.KeyFile
                  encpass -key_arn ARN [-region R] [-endpoint URL] [-access_key_id ID -secret_access_key KEY] [-passwd P]
                        print P encrypted with AWS KMS (base64 of the CiphertextBlob, as Perseus's encpass) for
                        perseus_auth.dest_pass_enc; without credentials, the AWS SDK's default chain is used
                  encpass -key_file FILE [-passwd P]
                        print P encrypted with a local key (local:v1:...) for perseus_auth.dest_pass_enc
                  tenant -auth_dsn DSN -source_db D -schema S -user U -dest_host H -dest_db DB -dest_user DU
                         (-key_arn ARN [KMS flags as encpass] | -key_file FILE | -dest_pass_enc CIPHERTEXT) [-scram]
                         [-add]
                        insert or update the perseus_auth row of (D, S): reads the tenant's password, then the
                        backend password (not with -dest_pass_enc), one line each from standard input or prompted;
                        without -auth_dsn, PERSEUS_AUTHDBSETTINGS_AUTHDBDSN is used; -scram stores a SCRAM-SHA-256
                        verifier instead of an easy-scrypt hash; -add keeps the row's passwords valid next to the
                        new one (rotation), a new verifier reusing the salt of the row's first

                  rotate -config FILE -dest_host H -dest_db D -admin_dsn DSN [-order row-first|role-first]
                         [-dest_user U] [-switch_account [-to_user U]] [-replicas HOST:PORT,...] [-timeout SECS] [-password_stdin]
                        change the backend password of the rows of H/D (or, with -switch_account, move them to the
                        other account of an x_odd/x_even pair): a new random password (or one line from standard
                        input), encrypted with the config's key, ALTER ROLE and perseus_auth in the chosen order
                        (default row-first), NOTIFY; then wait until every replica's /metrics (default: the
                        config's MetricsAddress) shows it logging in with the new credentials. Prints fingerprints
                        only; on failure, which step failed and the state left

                Passwords missing from the flags are read from standard input (one line each), or prompted for
                without echo on a terminal, which keeps them out of shell history and the process list.
                Flags take one or two dashes: -out FILE, -out=FILE, --out FILE.
                """;
    }
}
