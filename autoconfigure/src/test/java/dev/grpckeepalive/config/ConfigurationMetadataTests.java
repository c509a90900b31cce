package dev.grpckeepalive.config;

import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What IDEs show for grpc.keepalive.*: generated from the properties' javadoc and the additional hints. */
class ConfigurationMetadataTests {

	private static final Set<String> WITH_DEFAULTS = Set.of("grpc.keepalive.server.enabled",
			"grpc.keepalive.server.port", "grpc.keepalive.server.time", "grpc.keepalive.server.timeout",
			"grpc.keepalive.server.permit-time", "grpc.keepalive.server.permit-without-calls",
			"grpc.keepalive.server.shutdown-grace", "grpc.keepalive.server.handshake-timeout",
			"grpc.keepalive.server.ssl.client-auth",
			"grpc.keepalive.client.defaults.timeout", "grpc.keepalive.client.defaults.without-calls",
			"grpc.keepalive.frames.enabled", "grpc.keepalive.actuator.show-peers", "grpc.keepalive.health.window",
			"grpc.keepalive.advisor.enabled", "grpc.keepalive.advisor.window");

	@Test
	void everyPropertyHasADescriptionAndTheNonNullOnesADefault() throws Exception {
		DocumentContext metadata = metadata();
		List<Map<String, Object>> properties = metadata.read("$.properties");
		Map<String, Map<String, Object>> byName = properties.stream()
			.collect(Collectors.toMap((property) -> (String) property.get("name"), (property) -> property));

		assertThat(byName.keySet()).contains("grpc.keepalive.server.max-connection-age-grace",
				"grpc.keepalive.client.channels", "grpc.keepalive.server.ssl.bundle", "grpc.keepalive.health.window");
		assertThat(properties).allSatisfy((property) -> assertThat((String) property.get("description"))
			.as((String) property.get("name"))
			.isNotBlank());
		WITH_DEFAULTS.forEach((name) -> assertThat(byName.get(name)).as(name).containsKey("defaultValue"));
		assertThat(byName.get("grpc.keepalive.server.time").get("defaultValue")).isEqualTo("2h");
		assertThat(byName.get("grpc.keepalive.server.permit-time").get("defaultValue")).isEqualTo("5m");
		assertThat(byName.get("grpc.keepalive.server.port").get("defaultValue")).isEqualTo(9090);
	}

	@Test
	void durationsAndTargetsHaveValueHints() throws Exception {
		List<String> hinted = metadata().read("$.hints[*].name");
		assertThat(hinted).contains("grpc.keepalive.server.time", "grpc.keepalive.server.permit-time",
				"grpc.keepalive.server.max-connection-age", "grpc.keepalive.client.defaults.time",
				"grpc.keepalive.client.channels.values.target");
		List<String> ages = metadata().read("$.hints[?(@.name == 'grpc.keepalive.server.max-connection-age')].values[*].value");
		assertThat(ages).contains("5m");
	}

	private static DocumentContext metadata() throws Exception {
		try (InputStream in = ConfigurationMetadataTests.class
			.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			assertThat(in).as("generated metadata").isNotNull();
			return JsonPath.parse(in);
		}
	}

}
