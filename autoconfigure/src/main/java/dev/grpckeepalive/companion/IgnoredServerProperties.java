package dev.grpckeepalive.companion;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.core.env.Environment;

/**
 * The {@code grpc.keepalive.server.*} properties that configure this starter's own server
 * and mean nothing once Spring Boot's gRPC server runs in its place: the application set them
 * expecting an effect, so one WARN at startup names each one it set with the
 * {@code spring.grpc.server.*} property that does the job on Spring Boot's server.
 */
final class IgnoredServerProperties {

	private static final Log logger = LogFactory.getLog(IgnoredServerProperties.class);

	/** Each of our properties (or groups) that Spring Boot's server owns, with Spring Boot's, in the order logged. */
	static final Map<String, String> REPLACEMENTS;

	/** The entries of {@link #REPLACEMENTS} that are groups of properties. */
	private static final Set<String> GROUPS = Set.of("grpc.keepalive.server.ssl", "grpc.keepalive.server.health",
			"grpc.keepalive.server.reflection");

	static {
		Map<String, String> replacements = new LinkedHashMap<>();
		replacements.put("grpc.keepalive.server.port", "spring.grpc.server.port");
		replacements.put("grpc.keepalive.server.address", "spring.grpc.server.address");
		replacements.put("grpc.keepalive.server.shutdown-grace", "spring.grpc.server.shutdown.grace-period");
		replacements.put("grpc.keepalive.server.ssl", "spring.grpc.server.ssl");
		replacements.put("grpc.keepalive.server.health", "spring.grpc.server.health");
		replacements.put("grpc.keepalive.server.reflection", "spring.grpc.server.reflection");
		REPLACEMENTS = Collections.unmodifiableMap(replacements);
	}

	private IgnoredServerProperties() {
	}

	/** Logs the one WARN, if the application set any of the properties. */
	static void warnIfSet(Environment environment) {
		String warning = warning(environment);
		if (warning != null) {
			logger.warn(warning);
		}
	}

	/** The warning, or {@code null} when the application set none of the properties. */
	static @Nullable String warning(Environment environment) {
		Iterable<ConfigurationPropertySource> sources = ConfigurationPropertySources.get(environment);
		List<String> set = new ArrayList<>();
		REPLACEMENTS.forEach((ours, boots) -> {
			ConfigurationPropertyName name = ConfigurationPropertyName.of(ours);
			if (GROUPS.contains(ours)) {
				if (containsDescendant(sources, name)) {
					set.add(ours + ".* (use " + boots + ".*)");
				}
			}
			else {
				ConfigurationProperty property = property(sources, name);
				if (property != null) {
					set.add(ours + "=" + property.getValue() + " (use " + boots + ")");
				}
			}
		});
		if (set.isEmpty()) {
			return null;
		}
		return "Spring Boot's gRPC server runs in place of this starter's, so these properties have no effect: "
				+ String.join(", ", set);
	}

	private static @Nullable ConfigurationProperty property(Iterable<ConfigurationPropertySource> sources,
			ConfigurationPropertyName name) {
		for (ConfigurationPropertySource source : sources) {
			ConfigurationProperty property = source.getConfigurationProperty(name);
			if (property != null) {
				return property;
			}
		}
		return null;
	}

	private static boolean containsDescendant(Iterable<ConfigurationPropertySource> sources,
			ConfigurationPropertyName name) {
		for (ConfigurationPropertySource source : sources) {
			if (source.containsDescendantOf(name) == ConfigurationPropertyState.PRESENT) {
				return true;
			}
		}
		return false;
	}

}
