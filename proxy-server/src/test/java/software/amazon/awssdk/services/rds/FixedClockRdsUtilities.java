package software.amazon.awssdk.services.rds;

import java.time.Clock;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * The SDK's own {@link RdsUtilities} implementation with a fixed signing clock, for comparing its tokens with a
 * reference computation at a known instant. (The clock constructor is package-private, hence this package.)
 */
public final class FixedClockRdsUtilities {

    private FixedClockRdsUtilities() {
    }

    public static RdsUtilities create(Region region, AwsCredentialsProvider credentials, Clock clock) {
        DefaultRdsUtilities.DefaultBuilder builder = (DefaultRdsUtilities.DefaultBuilder) RdsUtilities.builder()
                .region(region).credentialsProvider(credentials);
        return new DefaultRdsUtilities(builder, clock);
    }
}
