package dev.grpckeepalive.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Ends a server process a test started (HAProxy, nginx, Prometheus) and removes the
 * directory it ran in: asked to stop first, killed if it has not within {@code graceSeconds}.
 */
public final class ExternalProcess {

	private ExternalProcess() {
	}

	/** Stops {@code process}, then deletes {@code directory} and everything in it, quietly. */
	public static void stopAndDelete(Process process, int graceSeconds, Path directory) {
		try {
			process.destroy();
			if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
				process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
			}
		}
		catch (InterruptedException ex) {
			process.destroyForcibly();
			Thread.currentThread().interrupt();
		}
		finally {
			deleteQuietly(directory);
		}
	}

	/** Deletes {@code directory} and everything in it; a directory left behind is harmless. */
	public static void deleteQuietly(Path directory) {
		try (Stream<Path> files = Files.walk(directory)) {
			files.sorted(Comparator.reverseOrder()).forEach((file) -> file.toFile().delete());
		}
		catch (IOException ex) {
			// a temporary directory left behind is harmless
		}
	}

}
