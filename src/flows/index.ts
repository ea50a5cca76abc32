import type { Bot } from '../bot/router';
import { handleOpenSelfEvaluation, handleProgress } from './campaign/handlers';
import { handleRemindLate } from './campaign/remind';
import { SELF_EVALUATION_ACTIONS, handleOpenEvaluation, makeSelfEvaluationHandler } from './self-evaluation/handlers';
import { handleDirectMessage, handleShowHelp } from './help/handlers';
import { handleOpenLedger, handleReturnLedger, handleSubmitLedger } from './ledger/handlers';

/** Every flow registers its actions here; the router knows nothing else. */
export function registerFlows(bot: Bot): void {
  bot.on('campaign.open-self-eval', handleOpenSelfEvaluation);
  bot.on('campaign.progress', handleProgress);
  bot.on('campaign.remind-late', handleRemindLate);
  bot.on('self-eval.open', handleOpenEvaluation);
  bot.on('help.show', handleShowHelp);
  bot.onMessage(handleDirectMessage);
  for (const id of SELF_EVALUATION_ACTIONS) bot.on(id, makeSelfEvaluationHandler(id));
  bot.on('ledger.open', handleOpenLedger);
  bot.on('ledger.submit', handleSubmitLedger);
  bot.on('ledger.return', handleReturnLedger);
}
