package dev.grpckeepalive.config;

import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.beans.BeanWrapperImpl;
import org.springframework.boot.convert.DurationStyle;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What IDEs show for grpc.keepalive.*: generated from the properties' javadoc and the additional
 * hints. Held against the behaviour where a test can tell: the defaults of the properties class,
 * grpc-java's own defaults, and the property reference in docs/configuration.md.
 */
class ConfigurationMetadataTests {

	private static final String PREFIX = GrpcKeepAliveProperties.PREFIX + ".";

	/** The channels map: the keys of its entries are in {@link GrpcKeepAliveProperties.Channel}, not in the metadata. */
	private static final String CHANNELS = PREFIX + "client.channels";

	/** A row of a property table in docs/configuration.md: property, type, default, ... */
	private static final Pattern DOC_ROW = Pattern.compile("^\\| `(grpc\\.keepalive\\.[^`]+)` \\| [^|]+ \\| ([^|]+) \\|");

	private static final Set<String> WITH_DEFAULTS = Set.of("grpc.keepalive.server.enabled",
			"grpc.keepalive.server.port", "grpc.keepalive.server.time", "grpc.keepalive.server.timeout",
			"grpc.keepalive.server.permit-time", "grpc.keepalive.server.permit-without-calls",
			"grpc.keepalive.server.shutdown-grace", "grpc.keepalive.server.handshake-timeout",
			"grpc.keepalive.server.ssl.client-auth", "grpc.keepalive.server.limits.max-rst-frames",
			"grpc.keepalive.server.limits.rst-frames-window",
			"grpc.keepalive.server.limits.max-concurrent-calls-per-connection",
			"grpc.keepalive.server.limits.max-inbound-metadata-size",
			"grpc.keepalive.client.defaults.timeout", "grpc.keepalive.client.defaults.without-calls",
			"grpc.keepalive.frames.enabled", "grpc.keepalive.actuator.show-peers", "grpc.keepalive.health.window",
			"grpc.keepalive.advisor.enabled", "grpc.keepalive.advisor.window", "grpc.keepalive.server.health.enabled",
			"grpc.keepalive.server.reflection.enabled", "grpc.keepalive.server.observation.enabled",
			"grpc.keepalive.client.observation.enabled");

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

	@Test
	void defaultsInTheMetadataAreTheDefaultsOfThePropertiesAndUnsetOnesSayWhatUnsetMeans() throws Exception {
		BeanWrapperImpl defaults = new BeanWrapperImpl(new GrpcKeepAliveProperties());

		properties().forEach((name, property) -> {
			if (name.equals(CHANNELS)) {
				return;
			}
			Object actual = defaults.getPropertyValue(beanPath(name));
			Object documented = property.get("defaultValue");
			String description = (String) property.get("description");
			if (actual == null) {
				assertThat(documented).as(name + " has no default").isNull();
				assertThat(description).as(name + ": what unset means").contains("when not set");
			}
			else {
				assertThat(documented).as(name + " default").isNotNull();
				assertThat(parse(String.valueOf(documented), actual.getClass())).as(name + " default")
					.isEqualTo(normalize(actual));
			}
		});
	}

	@Test
	void keepAliveDefaultsAreGrpcJavasOwn() throws Exception {
		NettyServerBuilder server = NettyServerBuilder.forPort(0);
		NettyChannelBuilder channel = NettyChannelBuilder.forTarget("localhost:1");
		// grpc-java's defaults, read from fresh builders: null where grpc-java's default is infinite or off
		Map<String, Object> grpcJava = new LinkedHashMap<>();
		grpcJava.put("server.time", nanos(field(server, "keepAliveTimeInNanos")));
		grpcJava.put("server.timeout", nanos(field(server, "keepAliveTimeoutInNanos")));
		grpcJava.put("server.permit-time", nanos(field(server, "permitKeepAliveTimeInNanos")));
		grpcJava.put("server.permit-without-calls", field(server, "permitKeepAliveWithoutCalls"));
		grpcJava.put("server.max-connection-idle", nanos(field(server, "maxConnectionIdleInNanos")));
		grpcJava.put("server.max-connection-age", nanos(field(server, "maxConnectionAgeInNanos")));
		grpcJava.put("server.max-connection-age-grace", nanos(field(server, "maxConnectionAgeGraceInNanos")));
		grpcJava.put("server.handshake-timeout",
				Duration.ofMillis((long) field(field(server, "serverImplBuilder"), "handshakeTimeoutMillis")));
		grpcJava.put("client.defaults.time", nanos(field(channel, "keepAliveTimeNanos")));
		grpcJava.put("client.defaults.timeout", nanos(field(channel, "keepAliveTimeoutNanos")));
		grpcJava.put("client.defaults.without-calls", field(channel, "keepAliveWithoutCalls"));
		Map<String, Map<String, Object>> properties = properties();

		grpcJava.forEach((name, expected) -> {
			Object documented = properties.get(PREFIX + name).get("defaultValue");
			if (expected == null) {
				assertThat(documented).as(name + ": grpc-java's default is infinite or off").isNull();
				assertThat(description(properties, name)).as(name)
					.containsAnyOf("Infinite when not set", "Disabled when not set");
			}
			else {
				assertThat(documented).as(name).isNotNull();
				assertThat(parse(String.valueOf(documented), expected.getClass())).as(name + ", grpc-java's default")
					.isEqualTo(expected);
			}
		});
	}

	@Test
	void descriptionsSayWhatTheSwitchesDo() throws Exception {
		Map<String, Map<String, Object>> properties = properties();

		assertThat(description(properties, "server.shutdown-grace")).contains("UNAVAILABLE")
			.doesNotContainIgnoringCase("cancel");
		assertThat(description(properties, "server.max-connection-age-grace")).contains("UNAVAILABLE");
		assertThat(description(properties, "frames.enabled")).contains("releases the socket")
			.contains("after a keepalive timeout")
			.contains("round-trip times")
			.contains("health does not go DOWN");
		assertThat(description(properties, "server.timeout")).contains("frames.enabled");
	}

	@Test
	void hintsCalledTheDefaultAreTheDefault() throws Exception {
		Map<String, Map<String, Object>> properties = properties();
		List<Map<String, Object>> hints = metadata().read("$.hints");

		for (Map<String, Object> hint : hints) {
			String name = (String) hint.get("name");
			@SuppressWarnings("unchecked")
			List<Map<String, Object>> values = (List<Map<String, Object>>) hint.get("values");
			for (Map<String, Object> value : values) {
				String description = String.valueOf(value.get("description"));
				if (description.toLowerCase(Locale.ROOT).contains("default")) {
					assertThat(properties).as(name).containsKey(name);
					Object documented = properties.get(name).get("defaultValue");
					Object hinted = value.get("value");
					if (hinted instanceof String text && !text.matches("-?\\d+")
							&& !text.toUpperCase(Locale.ROOT).endsWith("B")) {
						assertThat(DurationStyle.detectAndParse(text, ChronoUnit.MILLIS))
							.as(name + " hint '" + description + "'")
							.isEqualTo(DurationStyle.detectAndParse(String.valueOf(documented), ChronoUnit.MILLIS));
					}
					else {
						// counts and sizes: the same text as the documented default
						assertThat(String.valueOf(hinted)).as(name + " hint '" + description + "'")
							.isEqualTo(String.valueOf(documented));
					}
				}
			}
		}
	}

	@Test
	void everyPropertyIsInTheConfigurationReferenceWithTheSameDefault() throws Exception {
		Map<String, String> documented = documentedDefaults();
		Map<String, Map<String, Object>> properties = properties();
		BeanWrapperImpl defaults = new BeanWrapperImpl(new GrpcKeepAliveProperties());
		Set<String> channelKeys = keys(GrpcKeepAliveProperties.Channel.class, CHANNELS + ".<name>.");

		properties.forEach((name, property) -> {
			if (name.equals(CHANNELS)) {
				return;
			}
			assertThat(documented).as("docs/configuration.md documents " + name).containsKey(name);
			String cell = documented.get(name);
			Object value = property.get("defaultValue");
			if (value == null) {
				assertThat(cell).as(name + " has no default, the docs must not show a value").doesNotStartWith("`");
			}
			else {
				Class<?> type = defaults.getPropertyType(beanPath(name));
				assertThat(cell).as(name + " default in docs/configuration.md").matches("`[^`]+`");
				assertThat(parse(cell.substring(1, cell.length() - 1), type))
					.as(name + " default in docs/configuration.md")
					.isEqualTo(parse(String.valueOf(value), type));
			}
		});
		assertThat(documented.keySet()).as("documented properties, all of them real")
			.containsExactlyInAnyOrderElementsOf(union(properties.keySet().stream()
				.filter((name) -> !name.equals(CHANNELS))
				.collect(Collectors.toSet()), channelKeys));
		// a channel inherits what it does not set: the docs name the property it inherits, which must exist
		channelKeys.forEach((key) -> {
			String cell = documented.get(key);
			if (cell.startsWith("`")) {
				assertThat(properties).as(key + " defaults to " + cell).containsKey(PREFIX + cell.replace("`", ""));
			}
		});
	}

	private static Map<String, Map<String, Object>> properties() throws Exception {
		List<Map<String, Object>> properties = metadata().read("$.properties");
		Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
		properties.stream()
			.filter((property) -> ((String) property.get("name")).startsWith(PREFIX))
			.forEach((property) -> byName.put((String) property.get("name"), property));
		return byName;
	}

	private static String description(Map<String, Map<String, Object>> properties, String name) {
		return (String) properties.get(PREFIX + name).get("description");
	}

	/** {@code grpc.keepalive.server.ssl.client-auth} to {@code server.ssl.clientAuth}. */
	private static String beanPath(String name) {
		StringBuilder path = new StringBuilder();
		String relative = name.substring(PREFIX.length());
		for (int i = 0; i < relative.length(); i++) {
			char c = relative.charAt(i);
			if (c == '-') {
				path.append(Character.toUpperCase(relative.charAt(++i)));
			}
			else {
				path.append(c);
			}
		}
		return path.toString();
	}

	/** The keys under {@code prefix} of a nested properties class, such as {@code ssl.bundle} for a channel's TLS. */
	private static Set<String> keys(Class<?> type, String prefix) {
		Set<String> keys = new LinkedHashSet<>();
		for (Field field : type.getDeclaredFields()) {
			if (Modifier.isStatic(field.getModifiers())) {
				continue;
			}
			String key = prefix + field.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
			if (field.getType().getDeclaringClass() == GrpcKeepAliveProperties.class && !field.getType().isEnum()) {
				keys.addAll(keys(field.getType(), key + "."));
			}
			else {
				keys.add(key);
			}
		}
		return keys;
	}

	/** The Default column of the property tables in docs/configuration.md, by property. */
	private static Map<String, String> documentedDefaults() throws Exception {
		Path doc = Path.of("..", "docs", "configuration.md");
		if (!Files.isRegularFile(doc)) {
			doc = Path.of("docs", "configuration.md");
		}
		String text = Files.readString(doc);
		String reference = text.substring(text.indexOf("## Property reference"));
		reference = reference.substring(0, reference.indexOf("\n## ", 1));
		Map<String, String> defaults = new LinkedHashMap<>();
		for (String line : reference.lines().toList()) {
			Matcher row = DOC_ROW.matcher(line);
			if (row.find()) {
				assertThat(defaults.put(row.group(1), row.group(2).trim())).as("one row for " + row.group(1)).isNull();
			}
		}
		return defaults;
	}

	/** A value as written in the metadata or the docs, in the form {@link #normalize} gives the actual default. */
	private static Object parse(String text, Class<?> type) {
		if (Duration.class.isAssignableFrom(type)) {
			return DurationStyle.detectAndParse(text, ChronoUnit.MILLIS);
		}
		if (type == Boolean.class || type == boolean.class) {
			assertThat(text).isIn("true", "false");
			return Boolean.valueOf(text);
		}
		if (type == Integer.class || type == int.class) {
			return Integer.valueOf(text);
		}
		if (type.isEnum()) {
			return text.toUpperCase(Locale.ROOT).replace('-', '_');
		}
		if (org.springframework.util.unit.DataSize.class.isAssignableFrom(type)) {
			return org.springframework.util.unit.DataSize.parse(text);
		}
		return text;
	}

	private static Object normalize(Object value) {
		return (value instanceof Enum<?> constant) ? constant.name() : value;
	}

	private static @Nullable Duration nanos(Object nanos) {
		// grpc-java's "infinite" and "disabled" are Long.MAX_VALUE
		return ((long) nanos == Long.MAX_VALUE) ? null : Duration.ofNanos((long) nanos);
	}

	/** A private field of a grpc-java builder: grpc-java has no getters for its defaults. */
	private static Object field(Object target, String name) {
		for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
			try {
				Field field = type.getDeclaredField(name);
				field.setAccessible(true);
				return Objects.requireNonNull(field.get(target));
			}
			catch (NoSuchFieldException ex) {
				// look in the superclass
			}
			catch (IllegalAccessException ex) {
				throw new IllegalStateException(ex);
			}
		}
		throw new AssertionError(target.getClass().getName() + " has no field " + name
				+ ": grpc-java changed, check its defaults against the properties' descriptions and docs");
	}

	private static Set<String> union(Set<String> one, Set<String> other) {
		Set<String> union = new LinkedHashSet<>(one);
		union.addAll(other);
		return union;
	}

	private static DocumentContext metadata() throws Exception {
		try (InputStream in = ConfigurationMetadataTests.class
			.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			assertThat(in).as("generated metadata").isNotNull();
			return JsonPath.parse(in);
		}
	}

}
