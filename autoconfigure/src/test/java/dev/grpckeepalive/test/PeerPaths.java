package dev.grpckeepalive.test;

import java.nio.file.Path;

/** Paths of the peers' folders as a developer types them: relative to the repository. */
final class PeerPaths {

	/** The repository: the tests run in a module folder one level below it. */
	static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

	private PeerPaths() {
	}

	/** {@code path} relative to the repository where it is inside it, else as it is. */
	static String relative(Path path) {
		Path absolute = path.toAbsolutePath().normalize();
		return absolute.startsWith(REPOSITORY) ? REPOSITORY.relativize(absolute).toString() : absolute.toString();
	}

}
