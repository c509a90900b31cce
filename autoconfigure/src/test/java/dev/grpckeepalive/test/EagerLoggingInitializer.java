package dev.grpckeepalive.test;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;
import org.slf4j.LoggerFactory;

/**
 * Initializes logging before any test thread starts. Otherwise the first tests, running in
 * parallel, meet SLF4J mid-initialization, which queues their log events and replays them
 * later from another thread: too late for tests that capture the output.
 */
public class EagerLoggingInitializer implements LauncherSessionListener {

	@Override
	public void launcherSessionOpened(LauncherSession session) {
		LoggerFactory.getILoggerFactory();
	}

}
