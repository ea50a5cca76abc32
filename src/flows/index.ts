import type { Bot } from '../bot/router';
import { handleOpenSelfEvaluation, handleProgress } from './campaign/handlers';
import { SELF_EVALUATION_ACTIONS, handleOpenEvaluation, makeSelfEvaluationHandler } from './self-evaluation/handlers';
import { handleDirectMessage, handleShowHelp } from './help/handlers';

/** Every flow registers its actions here; the router knows nothing else. */
export function registerFlows(bot: Bot): void {
  bot.on('campaign.open-self-eval', handleOpenSelfEvaluation);
  bot.on('campaign.progress', handleProgress);
  bot.on('self-eval.open', handleOpenEvaluation);
  bot.on('help.show', handleShowHelp);
  bot.onMessage(handleDirectMessage);
  for (const id of SELF_EVALUATION_ACTIONS) bot.on(id, makeSelfEvaluationHandler(id));
}
