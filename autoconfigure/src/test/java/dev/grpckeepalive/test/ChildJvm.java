package dev.grpckeepalive.test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;

/**
 * A second JVM on this machine, started with the tests' class path, optionally under a
 * command prefix such as {@code ip netns exec <namespace>}. It takes commands on its
 * standard input and reports events on standard output, one line each, as
 * {@code @@ {json}}; every other line (its logging) is passed through to this JVM's
 * standard error. Events carry {@code nanos}, the child's {@link System#nanoTime()}, which on
 * Linux reads the same monotonic clock as this JVM's.
 */
public final class ChildJvm implements AutoCloseable {

	private static final String EVENT_PREFIX = "@@ ";

	private final String name;

	private final Process process;

	private final Writer commands;

	private final List<DocumentContext> events = new ArrayList<>();

	private boolean ended;

	/** Kills the child if this JVM exits without closing it (a surefire timeout, say): a stopped child would stay. */
	private final Thread killOnExit;

	private ChildJvm(String name, List<String> command) throws IOException {
		this.name = name;
		this.process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
		this.killOnExit = new Thread(this.process::destroyForcibly, "child-jvm-kill-" + name);
		Runtime.getRuntime().addShutdownHook(this.killOnExit);
		this.commands = new OutputStreamWriter(this.process.getOutputStream(), StandardCharsets.UTF_8);
		Thread reader = new Thread(this::readEvents, "child-jvm-" + name);
		reader.setDaemon(true);
		reader.start();
	}

	/** Starts {@code main} with {@code arguments} in a new JVM, after {@code prefix} (may be empty). */
	public static ChildJvm start(String name, List<String> prefix, Class<?> main, String... arguments)
			throws IOException {
		return start(name, prefix, "256m", main, arguments);
	}

	/** Starts {@code main} in a new JVM whose heap is at most {@code maxHeap} ({@code -Xmx} syntax). */
	public static ChildJvm start(String name, List<String> prefix, String maxHeap, Class<?> main, String... arguments)
			throws IOException {
		List<String> command = new ArrayList<>(prefix);
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.addAll(List.of("-Xmx" + maxHeap, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
				"-Dorg.springframework.boot.logging.LoggingSystem=none", "-cp", System.getProperty("java.class.path"),
				main.getName()));
		command.addAll(List.of(arguments));
		return new ChildJvm(name, command);
	}

	/** Sends one command line to the child. */
	public void send(String command) throws IOException {
		this.commands.write(command + "\n");
		this.commands.flush();
	}

	/**
	 * Waits for the next event named {@code event} not yet returned by this method, skipping
	 * (but keeping) others.
	 */
	public DocumentContext await(String event, Duration timeout) throws InterruptedException {
		return await((document) -> event.equals(document.read("$.event")), event, timeout);
	}

	/** Waits for the next event with {@code event} and {@code id}. */
	public DocumentContext await(String event, String id, Duration timeout) throws InterruptedException {
		return await((document) -> event.equals(document.read("$.event")) && id.equals(document.read("$.id")),
				event + " " + id, timeout);
	}

	private synchronized DocumentContext await(Predicate<DocumentContext> match, String description,
			Duration timeout) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (true) {
			for (int i = 0; i < this.events.size(); i++) {
				if (match.test(this.events.get(i))) {
					return this.events.remove(i);
				}
			}
			long left = deadline - System.nanoTime();
			if (left <= 0 || this.ended) {
				throw new AssertionError("no '" + description + "' from " + this.name + " within " + timeout
						+ (this.process.isAlive() ? "" : " (it exited with " + exitValue() + ")") + "; unclaimed events: "
						+ this.events.stream().map(DocumentContext::jsonString).toList());
			}
			wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
		}
	}

	private String exitValue() {
		try {
			return String.valueOf(this.process.exitValue());
		}
		catch (IllegalThreadStateException ex) {
			return "?";
		}
	}

	private void readEvents() {
		try (BufferedReader lines = new BufferedReader(
				new InputStreamReader(this.process.getInputStream(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = lines.readLine()) != null) {
				if (line.startsWith(EVENT_PREFIX)) {
					DocumentContext event = JsonPath.parse(line.substring(EVENT_PREFIX.length()));
					synchronized (this) {
						this.events.add(event);
						notifyAll();
					}
				}
				else {
					System.err.println("[" + this.name + "] " + line);
				}
			}
		}
		catch (IOException ex) {
			// the child ended
		}
		synchronized (this) {
			this.ended = true;
			notifyAll();
		}
	}

	/** The child's process id (the JVM itself: {@code ip netns exec} replaces itself with it). */
	public long pid() {
		return this.process.pid();
	}

	/** Sends {@code signal} (such as {@code STOP}, {@code CONT}, {@code KILL}) to the child. */
	public void signal(String signal) throws Exception {
		Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid())).inheritIO().start();
		if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
			throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
		}
	}

	/** Kills the child at once, as a crash would, and waits for it to end. */
	public void kill() throws Exception {
		this.process.destroyForcibly();
		this.process.waitFor(30, TimeUnit.SECONDS);
		try {
			Runtime.getRuntime().removeShutdownHook(this.killOnExit);
		}
		catch (IllegalStateException ex) {
			// this JVM is exiting already
		}
	}

	@Override
	public void close() throws Exception {
		if (this.process.isAlive()) {
			// a stopped child must run again to end
			new ProcessBuilder("kill", "-CONT", String.valueOf(pid())).start().waitFor(10, TimeUnit.SECONDS);
		}
		kill();
	}

}
