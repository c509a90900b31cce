package dev.grpckeepalive.docs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.yaml.snakeyaml.Yaml;

import org.springframework.beans.BeanUtils;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.util.ClassUtils;

import dev.grpckeepalive.actuate.KeepAliveMeter;
import dev.grpckeepalive.connection.CloseReason;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the prose of README.md and docs/ states about the code, checked against the code: every property it names
 * exists (this starter's and Spring Boot's gRPC ones), the close reasons it lists and counts are the ones the code
 * has, and the endpoint operations it counts are the ones it documents. Tables with their own test (the property
 * reference, the Prometheus names, the alert runbooks) are checked there; this covers the text around them.
 */
class DocsMatchCodeTests {

	private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

	/** A property name as the docs write it; {@code <name>} and {@code *} stand for any key. */
	private static final Pattern PROPERTY = Pattern
		.compile("(?<![\\w.-])((?:grpc\\.keepalive|spring\\.grpc|management\\.endpoint\\.grpckeepalive)(?:\\.(?:[a-z0-9-]+|<[a-z-]+>|\\*))+)");

	private static final List<String> NUMBERS = List.of("zero", "one", "two", "three", "four", "five", "six", "seven",
			"eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen");

	private static final String COUNT = "(\\d+|" + String.join("|", NUMBERS) + ")";

	private static final Pattern CLOSE_REASONS_COUNTED = Pattern
		.compile("(?i)\\b" + COUNT + " (?:close )?reasons\\b");

	private static final Pattern OPERATIONS_COUNTED = Pattern.compile("(?i)\\b" + COUNT + " (read|write|delete) operations?\\b");

	/** The section of docs/migration.md that lists names of earlier Spring gRPC releases, on purpose. */
	private static final String OLDER_NAMES = "### Older Spring gRPC names";

	/** A code block quoting Spring Boot's report of a misspelt property, which names it on purpose. */
	private static final Pattern UNBOUND_EXAMPLE = Pattern.compile("(?s)```[^`]*?were left unbound[^`]*?```");

	@Test
	void everyPropertyTheDocsNameExists() throws IOException {
		PropertyTree properties = PropertyTree.fromMetadata();
		Set<String> meters = Arrays.stream(KeepAliveMeter.values()).map(KeepAliveMeter::getName).collect(Collectors.toSet());
		List<String> unknown = new ArrayList<>();
		for (Path doc : docs()) {
			String text = Files.readString(doc);
			if (text.contains("\n" + OLDER_NAMES + "\n")) {
				text = text.replace(section(text, OLDER_NAMES), "");
			}
			text = UNBOUND_EXAMPLE.matcher(text).replaceAll("");
			Matcher matcher = PROPERTY.matcher(text);
			while (matcher.find()) {
				String name = matcher.group(1);
				if (!meters.contains(name) && !properties.knows(name)) {
					unknown.add(REPOSITORY.relativize(doc) + ": " + name);
				}
			}
		}
		assertThat(unknown).as("properties the docs name that no metadata on the class path knows").isEmpty();
	}

	@Test
	void theCloseReasonsTableListsEveryReasonOfTheCode() throws IOException {
		String actuator = Files.readString(REPOSITORY.resolve("docs/actuator.md"));
		String section = section(actuator, "## Close reasons");
		Set<String> listed = new TreeSet<>();
		Matcher row = Pattern.compile("(?m)^\\| `([a-z_]+)` \\|").matcher(section);
		while (row.find()) {
			listed.add(row.group(1));
		}
		assertThat(listed).containsExactlyInAnyOrderElementsOf(
				Arrays.stream(CloseReason.values()).map(CloseReason::tag).toList());
	}

	@Test
	void everyCountOfCloseReasonsIsTheCodes() throws IOException {
		int reasons = CloseReason.values().length;
		List<String> wrong = new ArrayList<>();
		for (Path doc : docs()) {
			Matcher matcher = CLOSE_REASONS_COUNTED.matcher(Files.readString(doc));
			while (matcher.find()) {
				if (number(matcher.group(1)) != reasons) {
					wrong.add(REPOSITORY.relativize(doc) + ": '" + matcher.group() + "'");
				}
			}
		}
		assertThat(wrong).as("the code has " + reasons + " close reasons").isEmpty();
	}

	@Test
	void everyCountOfEndpointOperationsIsTheNumberDocumented() throws IOException {
		String actuator = Files.readString(REPOSITORY.resolve("docs/actuator.md"));
		Map<String, String> verbs = Map.of("read", "GET", "write", "POST", "delete", "DELETE");
		Matcher matcher = OPERATIONS_COUNTED.matcher(actuator);
		while (matcher.find()) {
			String verb = verbs.get(matcher.group(2).toLowerCase(Locale.ROOT));
			long documented = actuator.lines().filter((line) -> line.startsWith("## " + verb + " /actuator/")).count();
			assertThat(number(matcher.group(1))).as("'" + matcher.group() + "' in docs/actuator.md, which documents "
					+ documented + " " + verb + " operation(s) under their own headings")
				.isEqualTo(documented);
		}
	}

	/** An option shown commented out in a YAML file, as {@code # bundle: server-tls}. */
	private static final Pattern COMMENTED_OPTION = Pattern.compile("(?m)^(\\s*)# (\\s*)([a-z][a-z0-9-]*):");

	@Test
	void theSamplesApplicationYmlShowsEveryOption() throws IOException {
		String yml = Files.readString(REPOSITORY.resolve("sample-service/src/main/resources/application.yml"));
		Map<String, Object> tree = new Yaml().load(COMMENTED_OPTION.matcher(yml).replaceAll("$1$2$3:"));
		Set<String> shown = new TreeSet<>();
		flatten(tree, "", shown);
		Set<String> options = new TreeSet<>(PropertyTree.fromMetadata().names);
		options.removeIf((name) -> !name.startsWith("grpc.keepalive."));
		assertThat(shown).as("the options sample-service's application.yml shows, set or commented out")
			.containsAll(options);
	}

	/** The leaves of a YAML tree as property names; the keys of {@code client.channels} as {@code *}. */
	private static void flatten(Map<?, ?> tree, String prefix, Set<String> names) {
		tree.forEach((key, value) -> {
			String name = prefix.endsWith("grpc.keepalive.client.channels.") ? prefix + "*" : prefix + key;
			if (value instanceof Map<?, ?> nested) {
				flatten(nested, name + ".", names);
			}
			else {
				names.add(name);
			}
		});
	}

	private static List<Path> docs() throws IOException {
		List<Path> docs = new ArrayList<>();
		docs.add(REPOSITORY.resolve("README.md"));
		try (Stream<Path> files = Files.list(REPOSITORY.resolve("docs"))) {
			files.filter((file) -> file.toString().endsWith(".md")).sorted().forEach(docs::add);
		}
		return docs;
	}

	/** From a heading to the next heading of its level or above. */
	private static String section(String markdown, String heading) {
		int start = markdown.indexOf("\n" + heading + "\n");
		assertThat(start).as(heading).isNotNegative();
		int level = heading.indexOf(' ');
		Matcher next = Pattern.compile("\n#{1," + level + "} ").matcher(markdown);
		int end = next.find(start + heading.length() + 1) ? next.start() : markdown.length();
		return markdown.substring(start, end);
	}

	private static int number(String text) {
		int word = NUMBERS.indexOf(text.toLowerCase(Locale.ROOT));
		return (word >= 0) ? word : Integer.parseInt(text);
	}

	/**
	 * Every property of the configuration metadata on the class path (this starter's, Spring Boot's and its gRPC
	 * modules'), with the keys of map-valued properties walked into the map's value type, as a binder would.
	 */
	private static final class PropertyTree {

		private final Set<String> names = new LinkedHashSet<>();

		/** Map-valued properties, whose next segment is any key. */
		private final Set<String> maps = new LinkedHashSet<>();

		static PropertyTree fromMetadata() throws IOException {
			PropertyTree tree = new PropertyTree();
			JsonMapper json = JsonMapper.builder().build();
			for (Resource resource : new PathMatchingResourcePatternResolver()
				.getResources("classpath*:META-INF/spring-configuration-metadata.json")) {
				try (InputStream in = resource.getInputStream()) {
					for (JsonNode property : json.readTree(in).path("properties")) {
						String name = property.path("name").asString();
						if (PROPERTY.matcher(name).matches()) {
							tree.add(name, property.path("type").asString(""));
						}
					}
				}
			}
			return tree;
		}

		private void add(String name, String type) {
			Matcher map = Pattern.compile("java\\.util\\.Map<java\\.lang\\.String,\\s*([\\w.$]+)>").matcher(type);
			if (map.matches()) {
				this.maps.add(name);
				walk(name + ".*", map.group(1), 0);
			}
			else {
				this.names.add(name);
			}
		}

		/** The bean properties of a map's value type, as {@code prefix.kebab-name}, nested types walked. */
		private void walk(String prefix, String type, int depth) {
			Class<?> valueType;
			try {
				valueType = ClassUtils.forName(type, getClass().getClassLoader());
			}
			catch (ClassNotFoundException | LinkageError ex) {
				this.maps.add(prefix.substring(0, prefix.length() - 2));
				return;
			}
			for (var descriptor : BeanUtils.getPropertyDescriptors(valueType)) {
				if (descriptor.getReadMethod() == null || descriptor.getName().equals("class")) {
					continue;
				}
				String name = prefix + "." + descriptor.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
				Class<?> propertyType = descriptor.getPropertyType();
				boolean nested = depth < 3 && propertyType.getName().startsWith(valueType.getPackageName())
						&& !propertyType.isEnum() && !propertyType.isRecord();
				if (nested) {
					walk(name, propertyType.getName(), depth + 1);
				}
				else {
					this.names.add(name);
				}
			}
		}

		/** Whether a name from the docs is a property, a group of properties, or a key of a map of them. */
		boolean knows(String documented) {
			String name = documented.replaceAll("<[a-z-]+>", "*");
			for (String known : this.names) {
				if (matches(known, name) || matches(known, name + ".*") || prefixOf(name, known)) {
					return true;
				}
			}
			for (String map : this.maps) {
				if (name.equals(map) || name.startsWith(map + ".")) {
					return this.names.stream().anyMatch((known) -> known.startsWith(map + ".*"))
							? this.names.stream().anyMatch((known) -> matches(known, name) || prefixOf(name, known))
							: true;
				}
			}
			return false;
		}

		/** {@code known} with its {@code *} segments filled by {@code name}'s. */
		private static boolean matches(String known, String name) {
			String[] k = known.split("\\.");
			String[] n = name.split("\\.");
			if (k.length != n.length && !(n.length > k.length && n[k.length].equals("*") && n.length == k.length + 1)) {
				return false;
			}
			for (int i = 0; i < k.length; i++) {
				if (!k[i].equals("*") && !k[i].equals(n[i]) && !n[i].equals("*")) {
					return false;
				}
			}
			return true;
		}

		/** Whether {@code name} names a group {@code known} is in: its segments a prefix of {@code known}'s. */
		private static boolean prefixOf(String name, String known) {
			String[] k = known.split("\\.");
			String[] n = name.split("\\.");
			if (n.length >= k.length) {
				return false;
			}
			for (int i = 0; i < n.length; i++) {
				if (!k[i].equals("*") && !k[i].equals(n[i]) && !n[i].equals("*")) {
					return false;
				}
			}
			return true;
		}

	}

}
