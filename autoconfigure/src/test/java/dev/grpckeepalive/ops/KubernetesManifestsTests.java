package dev.grpckeepalive.ops;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import dev.grpckeepalive.test.NodePackages;
import dev.grpckeepalive.test.PrometheusBinaries;

import org.springframework.boot.convert.DurationStyle;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kubernetes manifests of docs/kubernetes.md (ops/kubernetes/*.yaml) are valid against the
 * Kubernetes and prometheus-operator schemas, checked offline by ops/kubernetes/validate (Node.js,
 * kubernetes-models), and their values keep the arithmetic the docs explain. The schema check
 * is skipped where Node.js or the validator's packages are missing, unless {@value #REQUIRED}
 * is {@code true} (CI sets it).
 */
class KubernetesManifestsTests {

	/** Environment variable that turns a missing validator from a skip into a failure. */
	static final String REQUIRED = "GRPC_KEEPALIVE_REQUIRE_KUBERNETES_VALIDATION";

	private static final Path KUBERNETES = PrometheusBinaries.OPS.resolve("kubernetes");

	private static final Path VALIDATOR = KUBERNETES.resolve("validate");

	/** The validator's npm packages, installed by the build before the tests (interop/prepare-peers). */
	private static final NodePackages VALIDATOR_PACKAGES = new NodePackages("Kubernetes manifests' validation",
			VALIDATOR, List.of("kubernetes-models/package.json", "@kubernetes-models/prometheus-operator/package.json",
					"yaml/package.json"),
			REQUIRED);

	@Test
	void manifestsAndTheAlertRulesAsAPrometheusRuleAreValidAgainstTheSchemas() throws Exception {
		VALIDATOR_PACKAGES.require();
		List<String> command = new ArrayList<>(List.of("node", VALIDATOR.resolve("validate.mjs").toString()));
		for (Path manifest : manifests()) {
			command.add(manifest.toString());
		}
		command.addAll(List.of("--prometheus-rule",
				PrometheusBinaries.OPS.resolve("prometheus/grpc-keepalive-alerts.yml").toString()));
		Process process = new ProcessBuilder(command).directory(VALIDATOR.toFile()).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		assertThat(output).contains("valid ").contains("apps/v1 Deployment prices")
			.contains("monitoring.coreos.com/v1 ServiceMonitor prices")
			.contains("monitoring.coreos.com/v1 PrometheusRule grpc-keepalive")
			.contains(" 0 invalid");
	}

	@Test
	void terminationGracePeriodCoversPreStopAndShutdownGrace() throws Exception {
		Map<String, Object> deployment = document("Deployment");
		Map<String, Object> pod = map(map(map(deployment, "spec"), "template"), "spec");
		long terminationGrace = ((Number) pod.get("terminationGracePeriodSeconds")).longValue();
		Map<String, Object> container = container(pod);
		long preStop = ((Number) map(map(map(container, "lifecycle"), "preStop"), "sleep").get("seconds")).longValue();
		Map<String, Object> server = map(map(application(), "grpc"), "keepalive", "server");
		Duration shutdownGrace = DurationStyle.detectAndParse(String.valueOf(server.get("shutdown-grace")));
		// the rest of the context (web server, channels) needs a few seconds after the gRPC server
		assertThat(Duration.ofSeconds(terminationGrace))
			.isGreaterThanOrEqualTo(Duration.ofSeconds(preStop).plus(shutdownGrace).plusSeconds(5));
	}

	@Test
	void readinessIncludesTheServerButNotTheChannels() throws Exception {
		Map<String, Object> readiness = map(map(map(map(map(application(), "management"), "endpoint"), "health"), "group"),
				"readiness");
		List<String> include = Arrays.stream(String.valueOf(readiness.get("include")).split(",")).map(String::trim)
			.toList();
		assertThat(include).contains("readinessState", "grpcKeepalive/server").doesNotContain("grpcKeepalive");
		Map<String, Object> container = container(map(map(map(document("Deployment"), "spec"), "template"), "spec"));
		assertThat(map(map(container, "readinessProbe"), "httpGet")).containsEntry("path", "/actuator/health/readiness");
		assertThat(map(map(container, "livenessProbe"), "httpGet")).containsEntry("path", "/actuator/health/liveness");
	}

	@Test
	void prometheusScrapesWhatTheApplicationExposes() throws Exception {
		Map<String, Object> exposure = map(map(map(application(), "management"), "endpoints"), "web", "exposure");
		assertThat(String.valueOf(exposure.get("include"))).contains("prometheus");
		Map<String, Object> monitor = document("ServiceMonitor");
		@SuppressWarnings("unchecked")
		Map<String, Object> endpoint = ((List<Map<String, Object>>) map(monitor, "spec").get("endpoints")).get(0);
		assertThat(endpoint).containsEntry("path", "/actuator/prometheus").containsEntry("port", "http");
		@SuppressWarnings("unchecked")
		List<Map<String, Object>> ports = (List<Map<String, Object>>) map(document("Service"), "spec").get("ports");
		assertThat(ports).extracting((port) -> port.get("name")).contains("http", "grpc");
	}

	private static List<Path> manifests() throws Exception {
		try (var files = Files.list(KUBERNETES)) {
			List<Path> manifests = files.filter((file) -> file.toString().endsWith(".yaml")).sorted().toList();
			assertThat(manifests).isNotEmpty();
			return manifests;
		}
	}

	/** The first document of this kind in ops/kubernetes. */
	@SuppressWarnings("unchecked")
	private static Map<String, Object> document(String kind) throws Exception {
		for (Path manifest : manifests()) {
			try (Reader reader = Files.newBufferedReader(manifest)) {
				for (Object document : new Yaml().loadAll(reader)) {
					if (document instanceof Map<?, ?> map && kind.equals(map.get("kind"))) {
						return (Map<String, Object>) map;
					}
				}
			}
		}
		throw new AssertionError("no " + kind + " in " + KUBERNETES);
	}

	/** The application.yml of the ConfigMap. */
	private static Map<String, Object> application() throws Exception {
		return new Yaml().load(String.valueOf(map(document("ConfigMap"), "data").get("application.yml")));
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> container(Map<String, Object> pod) {
		return ((List<Map<String, Object>>) pod.get("containers")).get(0);
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> map(Map<String, Object> parent, String... keys) {
		Map<String, Object> current = parent;
		for (String key : keys) {
			Object child = current.get(key);
			assertThat(child).as(key).isInstanceOf(Map.class);
			current = (Map<String, Object>) child;
		}
		return current;
	}

}
