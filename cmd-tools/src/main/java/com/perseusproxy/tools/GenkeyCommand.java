package com.perseusproxy.tools;

import com.perseusproxy.core.secrets.LocalKey;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** {@code genkey -out FILE}: a new local AES key file (mode 0600, never overwritten) for LocalKeySettings.KeyFile. */
final class GenkeyCommand {

    private GenkeyCommand() {
    }

    static int run(String[] args, Io io) throws UsageException, IOException {
        GoFlags flags = GoFlags.parse(args, 1, List.of("out"));
        if (flags.helpRequested()) {
            io.err().print(PerseusTools.usage());
            return PerseusTools.OK;
        }
        Path file = Path.of(flags.require("out", "name the key file to create, e.g. -out /etc/perseus/local.key"));
        LocalKey key = LocalKey.writeNewKey(file);
        io.out().println("wrote local key " + key.keyId() + " to " + file + " (mode 0600); set LocalKeySettings.KeyFile"
                + " to this path and keep a backup: passwords encrypted with it cannot be recovered without it");
        return PerseusTools.OK;
    }
}
