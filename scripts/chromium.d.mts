import type { BrowserContext } from 'playwright-core';

export declare const CHROMIUM: string;
export declare function haveChromium(): boolean;
export declare function launch(
  viewport?: { width: number; height: number },
  colorScheme?: 'light' | 'dark',
): Promise<{ ctx: BrowserContext; close: () => Promise<void> }>;
