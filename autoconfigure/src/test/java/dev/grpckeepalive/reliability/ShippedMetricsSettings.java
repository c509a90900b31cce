package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.Yaml;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics settings ({@code management.metrics.*}) of the configurations this project ships:
 * the sample service's {@code application.yml} and the {@code application.yml} of the
 * Kubernetes manifests' ConfigMap. The fleet test runs its replicas with them, so that the
 * dashboard is proven against what a user deploys, not against settings only the test makes.
 */
final class ShippedMetricsSettings {

	private static final Path SAMPLE = Path.of("..", "sample-service", "src", "main", "resources", "application.yml")
		.toAbsolutePath()
		.normalize();

	private static final Path MANIFESTS = Path.of("..", "ops", "kubernetes").toAbsolutePath().normalize();

	private final String source;

	private final Map<String, String> properties;

	private ShippedMetricsSettings(String source, Map<String, String> properties) {
		this.source = source;
		this.properties = properties;
	}

	/** The sample service's. */
	static ShippedMetricsSettings sample() throws IOException {
		try (Reader reader = Files.newBufferedReader(SAMPLE, StandardCharsets.UTF_8)) {
			return of("sample-service application.yml", new Yaml().load(reader));
		}
	}

	/** The ConfigMap's in ops/kubernetes (the one whose data holds an {@code application.yml}). */
	static ShippedMetricsSettings kubernetes() throws IOException {
		List<Path> files;
		try (var list = Files.list(MANIFESTS)) {
			files = list.filter((file) -> file.toString().endsWith(".yaml")).sorted().toList();
		}
		for (Path file : files) {
			try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
				for (Object document : new Yaml().loadAll(reader)) {
					if (document instanceof Map<?, ?> map && "ConfigMap".equals(map.get("kind"))
							&& map.get("data") instanceof Map<?, ?> data && data.get("application.yml") != null) {
						return of("ConfigMap application.yml of " + MANIFESTS.relativize(file),
								new Yaml().load(String.valueOf(data.get("application.yml"))));
					}
				}
			}
		}
		throw new AssertionError("no ConfigMap with an application.yml in " + MANIFESTS);
	}

	private static ShippedMetricsSettings of(String source, Object yaml) {
		Map<String, String> flat = new LinkedHashMap<>();
		flatten("", yaml, flat);
		// Prometheus must be able to scrape it at all
		assertThat(flat.get("management.endpoints.web.exposure.include")).as(source).contains("prometheus");
		Map<String, String> metrics = new LinkedHashMap<>();
		flat.forEach((key, value) -> {
			if (key.startsWith("management.metrics.")) {
				metrics.put(key, value);
			}
		});
		return new ShippedMetricsSettings(source, metrics);
	}

	private static void flatten(String prefix, Object value, Map<String, String> into) {
		if (value instanceof Map<?, ?> map) {
			map.forEach((key, child) -> flatten(prefix.isEmpty() ? String.valueOf(key) : prefix + "." + key, child, into));
		}
		else if (value instanceof List<?> list) {
			into.put(prefix, String.join(",", list.stream().map(String::valueOf).toList()));
		}
		else if (value != null) {
			into.put(prefix, String.valueOf(value));
		}
	}

	/** The settings as {@code key=value} properties for an application the test starts. */
	List<String> properties() {
		List<String> result = new ArrayList<>();
		this.properties.forEach((key, value) -> result.add(key + "=" + value));
		return result;
	}

	@Override
	public String toString() {
		return this.source + " " + this.properties;
	}

}
