package dev.grpckeepalive.actuate;

import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.common.docs.KeyName;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.server.ObservedGrpcServer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/metrics.md and the registered meters say the same as {@link KeepAliveMeter}: names,
 * types, tags and descriptions.
 */
class MetricsDocumentationTests {

	private static final Path METRICS_MD = Path.of("..", "docs", "metrics.md");

	private static final Pattern ROW = Pattern.compile("^\\| `(grpc\\.keepalive\\.[a-z.]+)` \\|([^|]*)\\|([^|]*)\\|([^|]*)\\|");

	@Test
	void everyDeclaredMeterIsDocumentedAsDeclared() throws Exception {
		Map<String, String[]> documented = new LinkedHashMap<>();
		String section = Files.readString(METRICS_MD).split("\n## Meters\n", 2)[1].split("\n## ", 2)[0];
		for (String line : section.split("\n")) {
			Matcher row = ROW.matcher(line);
			if (row.find()) {
				documented.put(row.group(1), new String[] { row.group(2).trim(), row.group(3).trim(), row.group(4).trim() });
			}
		}
		assertThat(documented.keySet())
			.containsExactlyInAnyOrder(Arrays.stream(KeepAliveMeter.values()).map(KeepAliveMeter::getName).toArray(String[]::new));
		for (KeepAliveMeter meter : KeepAliveMeter.values()) {
			String[] doc = documented.get(meter.getName());
			assertThat(doc[0]).as(meter + " type").isEqualToIgnoringCase(meter.getType().name());
			assertThat(doc[1].replace("`", "").replace(" ", "")).as(meter + " extra tags")
				.isEqualTo(String.join(",", Arrays.stream(meter.getAdditionalKeyNames()).map(KeyName::asString).toList()));
			assertThat(doc[2]).as(meter + " description").isEqualTo(meter.getDescription());
		}
	}

	@Test
	void theDocumentedReasonTagsAreTheCloseReasons() throws Exception {
		String tags = Files.readString(METRICS_MD).split("\n## Meters\n", 2)[0];
		for (CloseReason reason : CloseReason.values()) {
			assertThat(tags).as("reason tag values").contains("`" + reason.tag() + "`");
		}
	}

	@Test
	void theBinderRegistersExactlyTheDeclaredMetersWithTheirTypesAndTags() {
		ConnectionTracker tracker = ConnectionTracker.create(Side.SERVER, "server", null, null);
		ObservedGrpcServer server = StubServer.of(tracker.view());
		MeterRegistry registry = new SimpleMeterRegistry();
		new GrpcKeepAliveMeterBinder(server, List.of(), new KeepAliveAdvisor(Duration.ofHours(1), Clock.systemUTC()))
			.bindTo(registry);

		for (KeepAliveMeter declared : KeepAliveMeter.values()) {
			java.util.Collection<Meter> meters = registry.find(declared.getName()).meters();
			assertThat(meters).as(declared.getName()).isNotEmpty();
			for (Meter meter : meters) {
				assertThat(meter.getId().getType()).as(declared.getName()).isEqualTo(declared.getType());
				assertThat(meter.getId().getDescription()).isEqualTo(declared.getDescription());
				List<String> expectedTags = new java.util.ArrayList<>(List.of("side", "channel"));
				Arrays.stream(declared.getAdditionalKeyNames()).map(KeyName::asString).forEach(expectedTags::add);
				assertThat(meter.getId().getTags()).extracting(io.micrometer.core.instrument.Tag::getKey)
					.containsExactlyInAnyOrderElementsOf(expectedTags);
			}
		}
		assertThat(registry.getMeters()).allSatisfy((meter) -> assertThat(meter.getId().getName())
			.isIn(Arrays.stream(KeepAliveMeter.values()).map(KeepAliveMeter::getName).toList()));
		assertThat(registry.getMeters()).as("58 meters for the server, as docs/metrics.md counts").hasSize(58);
	}

}
