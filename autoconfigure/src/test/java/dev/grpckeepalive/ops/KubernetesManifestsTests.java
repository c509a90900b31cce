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
	}

	/**
	 * Startup and readiness are Kubernetes' native gRPC probes of grpc.health.v1 on the gRPC port (whose status
	 * follows Spring Boot's readiness); liveness stays Spring Boot's liveness state over HTTP, on the management
	 * port.
	 */
	@Test
	void probesCallGrpcHealthOnTheGrpcPortAndLivenessOverHttp() throws Exception {
		Map<String, Object> container = container(map(map(map(document("Deployment"), "spec"), "template"), "spec"));
		Object grpcPort = map(map(application(), "grpc"), "keepalive", "server").get("port");
		assertThat(containerPort(container, "grpc")).isEqualTo(grpcPort);
		for (String probe : List.of("startupProbe", "readinessProbe")) {
			Map<String, Object> grpc = map(map(container, probe), "grpc");
			assertThat(grpc.get("port")).as(probe).isEqualTo(grpcPort);
			// the overall status: the only one a probe should read, the same for every service name
			assertThat(grpc.getOrDefault("service", "")).as(probe).isEqualTo("");
		}
		assertThat(map(map(container, "livenessProbe"), "httpGet")).containsEntry("path", "/actuator/health/liveness")
			.containsEntry("port", "management");
	}

	@Test
	void managementHasItsOwnPortWhichTheGrpcServiceDoesNotRoute() throws Exception {
		Object managementPort = map(map(application(), "management"), "server").get("port");
		Map<String, Object> container = container(map(map(map(document("Deployment"), "spec"), "template"), "spec"));
		assertThat(containerPort(container, "management")).isEqualTo(managementPort)
			.isNotEqualTo(containerPort(container, "grpc"));
		List<Map<String, Object>> services = documents("Service");
		Map<String, Object> grpcService = named(services, "prices");
		assertThat(ports(grpcService)).extracting((port) -> port.get("targetPort")).containsExactly("grpc");
		assertThat(ports(grpcService)).extracting((port) -> port.get("port")).doesNotContain(managementPort);
		// the management port is listed, not routed: a headless Service, for Prometheus' discovery
		Map<String, Object> managementService = named(services, "prices-management");
		assertThat(map(managementService, "spec")).containsEntry("clusterIP", "None");
		assertThat(ports(managementService)).extracting((port) -> port.get("targetPort")).containsExactly("management");
	}

	@Test
	void theEndpointIsReadOnlyAndShowsPeersOnlyToAuthenticatedCallers() throws Exception {
		Map<String, Object> endpoint = map(map(application(), "management"), "endpoint");
		assertThat(map(endpoint, "grpckeepalive")).containsEntry("access", "read-only");
		Object showPeers = map(map(application(), "grpc"), "keepalive", "actuator").get("show-peers");
		assertThat(showPeers).isIn("never", "when-authorized");
		assertThat(map(endpoint, "health").get("show-details")).isIn(null, "never", "when-authorized");
	}

	@Test
	void prometheusScrapesWhatTheApplicationExposesOnTheManagementPort() throws Exception {
		Map<String, Object> exposure = map(map(map(application(), "management"), "endpoints"), "web", "exposure");
		assertThat(String.valueOf(exposure.get("include"))).contains("prometheus");
		Map<String, Object> monitor = document("ServiceMonitor");
		@SuppressWarnings("unchecked")
		Map<String, Object> endpoint = ((List<Map<String, Object>>) map(monitor, "spec").get("endpoints")).get(0);
		assertThat(endpoint).containsEntry("path", "/actuator/prometheus").containsEntry("port", "management");
		// the ServiceMonitor picks the management Service, and the job label stays `prices`, as the alert rules expect
		Map<String, Object> managementService = named(documents("Service"), "prices-management");
		Map<String, Object> labels = map(map(managementService, "metadata"), "labels");
		assertThat(labels).containsAllEntriesOf(map(map(monitor, "spec"), "selector", "matchLabels"));
		assertThat(labels.get(map(monitor, "spec").get("jobLabel"))).isEqualTo("prices");
		// and a Prometheus that discovers pods by annotation scrapes the same port
		Map<String, Object> template = map(map(document("Deployment"), "spec"), "template");
		Object managementPort = map(map(application(), "management"), "server").get("port");
		assertThat(map(map(template, "metadata"), "annotations")).containsEntry("prometheus.io/port",
				String.valueOf(managementPort)).containsEntry("prometheus.io/path", "/actuator/prometheus");
	}

	private static List<Path> manifests() throws Exception {
		try (var files = Files.list(KUBERNETES)) {
			List<Path> manifests = files.filter((file) -> file.toString().endsWith(".yaml")).sorted().toList();
			assertThat(manifests).isNotEmpty();
			return manifests;
		}
	}

	/** The first document of this kind in ops/kubernetes. */
	private static Map<String, Object> document(String kind) throws Exception {
		return documents(kind).get(0);
	}

	/** Every document of this kind in ops/kubernetes, at least one. */
	@SuppressWarnings("unchecked")
	private static List<Map<String, Object>> documents(String kind) throws Exception {
		List<Map<String, Object>> documents = new ArrayList<>();
		for (Path manifest : manifests()) {
			try (Reader reader = Files.newBufferedReader(manifest)) {
				for (Object document : new Yaml().loadAll(reader)) {
					if (document instanceof Map<?, ?> map && kind.equals(map.get("kind"))) {
						documents.add((Map<String, Object>) map);
					}
				}
			}
		}
		assertThat(documents).as("%s in %s", kind, KUBERNETES).isNotEmpty();
		return documents;
	}

	private static Map<String, Object> named(List<Map<String, Object>> documents, String name) {
		return documents.stream().filter((document) -> name.equals(map(document, "metadata").get("name"))).findFirst()
			.orElseThrow(() -> new AssertionError("no " + name + " in " + KUBERNETES));
	}

	@SuppressWarnings("unchecked")
	private static List<Map<String, Object>> ports(Map<String, Object> service) {
		return (List<Map<String, Object>>) map(service, "spec").get("ports");
	}

	/** The number of the container's port with this name. */
	@SuppressWarnings("unchecked")
	private static Object containerPort(Map<String, Object> container, String name) {
		return ((List<Map<String, Object>>) container.get("ports")).stream()
			.filter((port) -> name.equals(port.get("name"))).findFirst()
			.orElseThrow(() -> new AssertionError("no container port " + name)).get("containerPort");
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
