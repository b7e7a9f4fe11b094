package com.perseusproxy.server.it;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * {@link TestPostgres} in a Testcontainers PostgreSQL, used when a Docker engine is reachable
 * ({@link TestDatabaseChoice}). Same major version and settings as the embedded server. Clients reach it through
 * Docker's port mapping, so the server sees them come from the bridge, not from 127.0.0.1: pg_hba.conf covers every
 * address. That is safe only because the port is published on the host's loopback address alone (Docker would
 * publish it on every interface by default, and the superuser is trusted). Testcontainers' reaper removes the
 * container when the JVM ends; a shutdown hook stops it earlier on a clean exit.
 */
final class PostgresContainerServer implements TestPostgres.Server {

    static final String IMAGE = "postgres:14-alpine";

    private final PostgreSQLContainer<?> container;
    private final String host;

    private PostgresContainerServer(PostgreSQLContainer<?> container) {
        this.container = container;
        // The port is bound to 127.0.0.1 only; "localhost" could resolve to ::1 first.
        this.host = "localhost".equals(container.getHost()) ? TestPostgres.HOST : container.getHost();
    }

    @SuppressWarnings("resource") // stopped by the shutdown hook, or by Testcontainers' reaper
    static PostgresContainerServer start() {
        List<String> command = new ArrayList<>(List.of("postgres"));
        for (String[] setting : TestPostgres.SERVER_CONFIG) {
            command.add("-c");
            command.add(setting[0] + "=" + setting[1]);
        }
        PostgreSQLContainer<?> container = new PostgreSQLContainer<>(DockerImageName.parse(IMAGE))
                .withUsername(TestPostgres.SUPERUSER)
                .withPassword("unused-superuser-is-trusted")
                // Trusted like zonky's superuser, so the suite's DataSources need no password; the pg_hba.conf
                // written after start keeps the superuser trusted and puts every other role on its method.
                .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
                .withCommand(command.toArray(String[]::new))
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(new PortBinding(
                        Ports.Binding.bindIp(TestPostgres.HOST), new ExposedPort(PostgreSQLContainer.POSTGRESQL_PORT))));
        container.start();
        Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "test-postgres-container-stop"));
        return new PostgresContainerServer(container);
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int port() {
        return container.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT);
    }

    @Override
    public DataSource dataSource(String user, String database) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {host});
        ds.setPortNumbers(new int[] {port()});
        ds.setDatabaseName(database);
        ds.setUser(user);
        return ds;
    }

    @Override
    public List<String> clientNetworks() {
        return List.of("0.0.0.0/0", "::/0");
    }

    @Override
    public void writeHba(String path, List<String> lines) {
        // Readable by the server's user (0644); it only reads the file on reload.
        container.copyFileToContainer(Transferable.of(String.join("\n", lines) + "\n", 0644), path);
    }
}
