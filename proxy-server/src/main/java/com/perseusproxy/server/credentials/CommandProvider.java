package com.perseusproxy.server.credentials;

/** Kind {@code command}: the credentials a {@link CredentialCommand} prints. */
public final class CommandProvider implements CredentialProvider {

    private final CredentialCommand command;

    public CommandProvider(CredentialCommand command) {
        this.command = command;
    }

    @Override
    public CredentialCommand.Issued fetch() throws CredentialFetchException {
        return command.run();
    }

    @Override
    public String kind() {
        return "command";
    }

    @Override
    public String describe() {
        return "command " + command.program();
    }
}
